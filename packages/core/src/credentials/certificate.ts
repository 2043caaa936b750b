import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { ConfigWarning } from '../config/parse.js';
import { pasteDamage } from '../config/paste-damage.js';
import { normalizeThumbprint } from '../config/thumbprint.js';
import { ConfigError } from '../errors/smtp-oauth-error.js';

/** A certificate credential as PEM texts. */
export interface PemCertificateInput {
  certificatePem: string;
  privateKeyPem: string;
  /** Expected thumbprint (SHA-1 or SHA-256 hex, any case, colons/spaces allowed). */
  thumbprint?: string;
}

/** A certificate credential as a PKCS#12/PFX file. */
export interface PfxCertificateInput {
  pfxBase64: string;
  passphrase?: string;
  /** Expected thumbprint (SHA-1 or SHA-256 hex, any case, colons/spaces allowed). */
  thumbprint?: string;
}

/** Options for {@link loadCertificateCredential}. */
export interface LoadCertificateOptions {
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Warn when fewer days than this remain. @default 30 */
  warnDays?: number;
}

/** A certificate and its private key, checked to belong together and be valid now. */
export interface CertificateCredential {
  /** The leaf certificate (the one matching the key) as PEM. */
  certificatePem: string;
  /** The private key as PKCS#8 PEM. Not enumerable and left out of JSON, so it does not end up in logs. */
  readonly privateKeyPem: string;
  /** `rsa`, `ec`, … as reported by node:crypto. */
  keyType: string;
  /** SHA-1 thumbprint, upper-case hex without separators (as Entra shows it). */
  thumbprintSha1: string;
  /** SHA-256 thumbprint, upper-case hex without separators. */
  thumbprintSha256: string;
  /** JWT header `x5t`: base64url of the SHA-1 thumbprint bytes. */
  x5t: string;
  /** JWT header `x5t#S256`: base64url of the SHA-256 thumbprint bytes. */
  x5tS256: string;
  /** Subject as `CN=…, O=…`. */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until `notAfter` (negative once expired). */
  daysUntilExpiry(now?: number | Date): number;
  /** E.g. `CERTIFICATE_EXPIRES_SOON` when fewer than `warnDays` remain. */
  warnings: ConfigWarning[];
}

const DAY_MS = 86_400_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

// One home for the rule, browser-safe in config/; re-exported here where credentials are loaded.
export { normalizeThumbprint } from '../config/thumbprint.js';

const credentialError = (
  path: string,
  message: string,
  cause?: unknown,
  code: 'CREDENTIAL_INVALID' | 'CREDENTIAL_EXPIRED' = 'CREDENTIAL_INVALID',
) => new ConfigError([{ path, message }], { code, cause });

function formatName(name: string): string {
  return name
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(', ');
}

function readPrivateKey(pem: string, path: string): KeyObject {
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(pem))
    throw credentialError(
      path,
      'is encrypted; provide an unencrypted PEM key (keep it in a file:PATH reference) or use a PFX with passphrase',
    );
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw credentialError(path, 'is not a readable PEM private key', err);
  }
}

interface OpenedPfx {
  certificatePems: string[];
  keyPem: string;
}

// Without a passphrase, try both conventions: no password (forge, some tools) and the empty
// password (OpenSSL's `-passout pass:`).
function openPkcs12(asn1: forge.asn1.Asn1, passphrase: string | undefined): forge.pkcs12.Pkcs12Pfx {
  if (passphrase !== undefined) return forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  try {
    return forge.pkcs12.pkcs12FromAsn1(asn1, false);
  } catch {
    return forge.pkcs12.pkcs12FromAsn1(asn1, false, '');
  }
}

function openPfx(pfxBase64: string, passphrase: string | undefined): OpenedPfx {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.decode64(pfxBase64.replace(/\s/g, '')));
  } catch (err) {
    throw credentialError(
      'auth.credential.pfxBase64',
      'is not a PKCS#12/PFX file (base64 of the binary .pfx expected)',
      err,
    );
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = openPkcs12(asn1, passphrase);
  } catch (err) {
    const msg = String((err as Error).message);
    if (/MAC could not be verified|Invalid password|decrypt/i.test(msg) || passphrase !== undefined)
      throw credentialError(
        'auth.credential.passphrase',
        passphrase
          ? 'is wrong: the PFX could not be opened with it'
          : 'is required: the PFX is protected by a passphrase',
        err,
      );
    throw credentialError('auth.credential.pfxBase64', 'could not be read as PKCS#12/PFX', err);
  }
  const certificatePems: string[] = [];
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag as string })[
    forge.pki.oids.certBag as string
  ] ?? []) {
    if (bag.cert) certificatePems.push(forge.pki.certificateToPem(bag.cert));
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag as string })[
      forge.pki.oids.pkcs8ShroudedKeyBag as string
    ] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag as string })[forge.pki.oids.keyBag as string] ?? []),
  ];
  const key = keyBags.find((b) => b.key)?.key;
  if (!key)
    throw credentialError(
      'auth.credential.pfxBase64',
      'contains no RSA private key; export the PFX with its private key',
    );
  if (certificatePems.length === 0)
    throw credentialError('auth.credential.pfxBase64', 'contains no certificate');
  return { certificatePems, keyPem: forge.pki.privateKeyToPem(key) };
}

// Plain-JS callers get a typed error naming the field, not a TypeError from deep inside.
function checkInput(input: unknown): asserts input is PemCertificateInput | PfxCertificateInput {
  if (!input || typeof input !== 'object')
    throw credentialError(
      'auth.credential',
      'must be { certificatePem, privateKeyPem } or { pfxBase64, passphrase? }',
    );
  const i = input as Record<string, unknown>;
  const fields =
    'pfxBase64' in i
      ? ['pfxBase64', 'passphrase', 'thumbprint']
      : ['certificatePem', 'privateKeyPem', 'thumbprint'];
  for (const f of fields) {
    const required = f !== 'passphrase' && f !== 'thumbprint';
    if (i[f] === undefined && !required) continue;
    if (typeof i[f] !== 'string')
      throw credentialError(`auth.credential.${f}`, required ? 'is required (a string)' : 'must be a string');
  }
  if (typeof i.thumbprint === 'string') {
    const damage = pasteDamage(i.thumbprint, 'thumbprint');
    if (damage) throw credentialError('auth.credential.thumbprint', damage);
  }
}

const b64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/**
 * Loads a certificate credential from PEM texts or a PFX, and checks it (S16): the key belongs to
 * the certificate, a given thumbprint matches, and the certificate is valid now. Warns when it
 * expires within `warnDays`.
 *
 * Synchronous: every problem, a wrong PFX passphrase included, is thrown from this call (not a
 * rejected promise).
 *
 * @throws ConfigError with code `CREDENTIAL_INVALID` (missing or mistyped input, unreadable,
 * wrong or missing passphrase, key mismatch, thumbprint mismatch or copy-paste damage) or
 * `CREDENTIAL_EXPIRED`, naming the `auth.credential.*` field in `issues`.
 * @example
 * const credential = loadCertificateCredential({ pfxBase64, passphrase: 'from-a-vault' });
 * credential.thumbprintSha1; // 'A1B2…', as Entra shows it
 */
export function loadCertificateCredential(
  input: PemCertificateInput | PfxCertificateInput,
  options: LoadCertificateOptions = {},
): CertificateCredential {
  checkInput(input);
  const isPfx = 'pfxBase64' in input;
  const certPath = isPfx ? 'auth.credential.pfxBase64' : 'auth.credential.certificatePem';
  const keyPath = isPfx ? 'auth.credential.pfxBase64' : 'auth.credential.privateKeyPem';
  let certificatePems: string[];
  let key: KeyObject;
  if (isPfx) {
    const opened = openPfx(input.pfxBase64, input.passphrase);
    certificatePems = opened.certificatePems;
    key = readPrivateKey(opened.keyPem, keyPath);
  } else {
    certificatePems = input.certificatePem.match(PEM_CERT) ?? [];
    if (certificatePems.length === 0)
      throw credentialError(certPath, 'contains no PEM certificate (-----BEGIN CERTIFICATE-----)');
    key = readPrivateKey(input.privateKeyPem, keyPath);
  }

  const certs: X509Certificate[] = [];
  for (const pem of certificatePems) {
    try {
      certs.push(new X509Certificate(pem));
    } catch (err) {
      throw credentialError(certPath, 'contains a certificate that cannot be parsed', err);
    }
  }
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf)
    throw credentialError(
      keyPath,
      `the private key does not belong to the certificate (${formatName(certs[0]?.subject ?? '')}); export both from the same key pair`,
    );

  const der = leaf.raw;
  const thumbprintSha1 = createHash('sha1').update(der).digest('hex').toUpperCase();
  const thumbprintSha256 = createHash('sha256').update(der).digest('hex').toUpperCase();

  if (input.thumbprint !== undefined && input.thumbprint.trim() !== '') {
    const given = normalizeThumbprint(input.thumbprint);
    const actual = given.length === 64 ? thumbprintSha256 : thumbprintSha1;
    if (given !== actual)
      throw credentialError(
        'auth.credential.thumbprint',
        `does not match the certificate: configured ${given}, certificate ${given.length === 64 ? 'SHA-256' : 'SHA-1'} thumbprint is ${actual}`,
      );
  }

  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const now = (options.now ?? Date.now)();
  const subject = formatName(leaf.subject);
  if (now > notAfter.getTime())
    throw credentialError(
      certPath,
      `certificate ${subject} expired on ${notAfter.toISOString()}; create a new one and upload it to the app registration`,
      undefined,
      'CREDENTIAL_EXPIRED',
    );
  if (now < notBefore.getTime())
    throw credentialError(
      certPath,
      `certificate ${subject} is not valid before ${notBefore.toISOString()}; check this machine's clock`,
      undefined,
      'CREDENTIAL_EXPIRED',
    );

  const daysUntilExpiry = (at: number | Date = (options.now ?? Date.now)()) =>
    Math.floor((notAfter.getTime() - (typeof at === 'number' ? at : at.getTime())) / DAY_MS);
  const warnings: ConfigWarning[] = [];
  const left = daysUntilExpiry(now);
  if (left < (options.warnDays ?? 30))
    warnings.push({
      path: 'auth.credential',
      code: 'CERTIFICATE_EXPIRES_SOON',
      message: `certificate ${subject} expires in ${left} day${left === 1 ? '' : 's'} (${notAfter.toISOString().slice(0, 10)}); upload a new certificate to the app registration before then`,
    });

  const privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const credential = {
    certificatePem: leaf.toString(),
    keyType: key.asymmetricKeyType ?? 'unknown',
    thumbprintSha1,
    thumbprintSha256,
    x5t: b64url(thumbprintSha1),
    x5tS256: b64url(thumbprintSha256),
    subject,
    issuer: formatName(leaf.issuer),
    notBefore,
    notAfter,
    daysUntilExpiry,
    warnings,
  } as CertificateCredential;
  Object.defineProperty(credential, 'privateKeyPem', { value: privateKeyPem, enumerable: false });
  Object.defineProperty(credential, 'toJSON', {
    enumerable: false,
    value: () => describeCertificate(credential, now),
  });
  return credential;
}

/** Public facts about a certificate credential, for display (S3): never the key. */
export interface CertificateInfo {
  thumbprint: string;
  thumbprintSha256: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  daysUntilExpiry: number;
}

/** The displayable facts of a credential; what the server returns instead of the key. */
export function describeCertificate(
  credential: CertificateCredential,
  now: number | Date = Date.now(),
): CertificateInfo {
  if (!credential || typeof credential.thumbprintSha1 !== 'string' || !(credential.notAfter instanceof Date))
    throw new ConfigError(
      [{ path: 'credential', message: 'must be what loadCertificateCredential returned' }],
      {
        code: 'CREDENTIAL_INVALID',
      },
    );
  return {
    thumbprint: credential.thumbprintSha1,
    thumbprintSha256: credential.thumbprintSha256,
    subject: credential.subject,
    issuer: credential.issuer,
    notBefore: credential.notBefore.toISOString(),
    notAfter: credential.notAfter.toISOString(),
    daysUntilExpiry: credential.daysUntilExpiry(now),
  };
}
