import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** Where the relay's TLS certificate comes from. */
export type RelayTlsSource =
  /** PEM files the operator provides (e.g. from their CA or ACME client). */
  | { certFile: string; keyFile: string }
  /** A directory where a self-signed certificate is generated on first start and kept. */
  | { dir: string; hostname?: string };

/** The certificate in use; what the WebAdmin shows so a device owner can pin or compare it. */
export interface RelayCertificateInfo {
  source: 'files' | 'generated';
  /** SHA-256 fingerprint, colon-separated upper-case hex (as openssl and most devices show it). */
  fingerprintSha256: string;
  subject: string;
  validFrom: string;
  validTo: string;
}

export interface RelayTls {
  cert: string;
  /** PKCS#8 PEM. Never logged or returned by the API. */
  key: string;
  info: RelayCertificateInfo;
}

export const GENERATED_CERT_FILE = 'relay-cert.pem';
export const GENERATED_KEY_FILE = 'relay-key.pem';

/**
 * Loads the relay's certificate, or generates a self-signed one (RSA 2048, ten years) on first
 * start and keeps it, so devices that pin the fingerprint keep working across restarts.
 * @throws Error naming the file when a configured file cannot be read or is not a certificate.
 */
export function loadRelayTls(source: RelayTlsSource, now: Date = new Date()): RelayTls {
  if ('certFile' in source) {
    const cert = readPem(source.certFile, 'certFile');
    const key = readPem(source.keyFile, 'keyFile');
    return { cert, key, info: describe(cert, 'files', 'certFile') };
  }
  const certFile = join(source.dir, GENERATED_CERT_FILE);
  const keyFile = join(source.dir, GENERATED_KEY_FILE);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readPem(certFile, 'certFile');
    return { cert, key: readPem(keyFile, 'keyFile'), info: describe(cert, 'generated', 'certFile') };
  }
  mkdirSync(source.dir, { recursive: true, mode: 0o700 });
  const { cert, key } = selfSigned(source.hostname ?? 'localhost', now);
  writeFileSync(keyFile, key, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, cert, { mode: 0o644 });
  return { cert, key, info: describe(cert, 'generated', 'certFile') };
}

function readPem(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `relay.tls.${field}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

function describe(cert: string, source: RelayCertificateInfo['source'], field: string): RelayCertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`relay.tls.${field}: not a PEM certificate`);
  }
  return {
    source,
    fingerprintSha256: x509.fingerprint256,
    subject: x509.subject.replace(/\n/g, ', '),
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
  };
}

/** Keys from node:crypto (native, fast); node-forge only builds and signs the X.509 structure. */
function selfSigned(hostname: string, now: Date): { cert: string; key: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  ) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive, as RFC 5280 asks
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const subject = [
    { name: 'commonName', value: hostname },
    { name: 'organizationName', value: 'smtp-oauth relay' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(':');
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        isIp ? { type: 7, ip: hostname } : { type: 2, value: hostname },
        ...(hostname === 'localhost' ? [] : [{ type: 2, value: 'localhost' }]),
        ...(hostname === '127.0.0.1' ? [] : [{ type: 7, ip: '127.0.0.1' }]),
      ],
    },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}
