/**
 * Local PKI for the testkit: a throw-away certificate authority that signs the servers' TLS
 * certificates (clients trust `ca.certificatePem`), and client certificates for Entra certificate
 * credentials. Keys come from node:crypto (fast, native); node-forge only assembles and signs the
 * X.509 structures, so no openssl binary is needed.
 */
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

const DAY_MS = 86_400_000;

export interface CertificateAndKey {
  /** The certificate, PEM. */
  certificatePem: string;
  /** The private key, PKCS#8 PEM. Keep it out of logs. */
  privateKeyPem: string;
}

export interface CertificateAuthority extends CertificateAndKey {
  /** Issues a TLS server certificate for the given DNS names and IP addresses. */
  issueServerCertificate(options?: { hosts?: string[]; notAfter?: Date }): CertificateAndKey;
}

export interface ClientCertificate extends CertificateAndKey {
  /** SHA-1 thumbprint, upper-case hex (as the Entra portal shows it). */
  thumbprintSha1: string;
  /** SHA-256 thumbprint, upper-case hex. */
  thumbprintSha256: string;
  /** base64url of the SHA-1 thumbprint bytes: the JWT header `x5t`. */
  x5t: string;
  /** base64url of the SHA-256 thumbprint bytes: the JWT header `x5t#S256`. */
  x5tS256: string;
  notBefore: Date;
  notAfter: Date;
  subject: string;
}

interface ForgeKeys {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  privateKeyPem: string;
}

function generateKeys(): ForgeKeys {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
  return {
    privateKey: forgeKey,
    publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e),
    privateKeyPem,
  };
}

function randomSerial(): string {
  // Positive (high bit clear) and unique: what RFC 5280 asks of serial numbers.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function distinguishedName(commonName: string): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'smtp-oauth testkit' },
  ];
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Creates a certificate authority valid for ten years from `now`. */
export function createCertificateAuthority(
  options: { commonName?: string; now?: Date } = {},
): CertificateAuthority {
  const now = options.now ?? new Date();
  const keys = generateKeys();
  const ca = forge.pki.createCertificate();
  ca.publicKey = keys.publicKey;
  ca.serialNumber = randomSerial();
  ca.validity.notBefore = new Date(now.getTime() - DAY_MS);
  ca.validity.notAfter = new Date(now.getTime() + 3650 * DAY_MS);
  const name = distinguishedName(options.commonName ?? 'smtp-oauth testkit CA');
  ca.setSubject(name);
  ca.setIssuer(name);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(keys.privateKey, forge.md.sha256.create());

  return {
    certificatePem: forge.pki.certificateToPem(ca),
    privateKeyPem: keys.privateKeyPem,
    issueServerCertificate({ hosts = ['localhost', '127.0.0.1', '::1'], notAfter } = {}) {
      const leafKeys = generateKeys();
      const leaf = forge.pki.createCertificate();
      leaf.publicKey = leafKeys.publicKey;
      leaf.serialNumber = randomSerial();
      leaf.validity.notBefore = new Date(now.getTime() - DAY_MS);
      leaf.validity.notAfter = notAfter ?? new Date(now.getTime() + 825 * DAY_MS);
      leaf.setSubject(distinguishedName(hosts[0] ?? 'localhost'));
      leaf.setIssuer(ca.subject.attributes);
      leaf.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: hosts.map((h) => (isIp(h) ? { type: 7, ip: h } : { type: 2, value: h })),
        },
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
      ]);
      leaf.sign(keys.privateKey, forge.md.sha256.create());
      return { certificatePem: forge.pki.certificateToPem(leaf), privateKeyPem: leafKeys.privateKeyPem };
    },
  };
}

/**
 * Creates a self-signed client certificate, as an admin would upload to an Entra app registration
 * ("Certificates & secrets"). Validity defaults to one year from `now`.
 */
export function createClientCertificate(
  options: { commonName?: string; notBefore?: Date; notAfter?: Date; now?: Date } = {},
): ClientCertificate {
  const now = options.now ?? new Date();
  const notBefore = options.notBefore ?? new Date(now.getTime() - DAY_MS);
  const notAfter = options.notAfter ?? new Date(now.getTime() + 365 * DAY_MS);
  const commonName = options.commonName ?? 'smtp-oauth testkit client';
  const keys = generateKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const name = distinguishedName(commonName);
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return {
    certificatePem,
    privateKeyPem: keys.privateKeyPem,
    ...thumbprints(certificatePem),
    notBefore,
    notAfter,
    subject: `CN=${commonName}`,
  };
}

/** Thumbprints of a PEM certificate in the forms Entra and JWT headers use. */
export function thumbprints(certificatePem: string): {
  thumbprintSha1: string;
  thumbprintSha256: string;
  x5t: string;
  x5tS256: string;
} {
  const der = new X509Certificate(certificatePem).raw;
  const sha1 = createHash('sha1').update(der).digest();
  const sha256 = createHash('sha256').update(der).digest();
  return {
    thumbprintSha1: sha1.toString('hex').toUpperCase(),
    thumbprintSha256: sha256.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: sha256.toString('base64url'),
  };
}
