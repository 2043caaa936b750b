import { X509Certificate } from 'node:crypto';

/** What the API shows about a certificate credential instead of the key (S3). */
export interface CertificateInfo {
  subject: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  notAfter: string;
  /** Whole days until expiry (negative when expired). */
  expiresInDays: number;
}

/**
 * Public facts of a PEM certificate. Returns undefined when it cannot be read (core's schema has
 * already vetted the PEM; PFX bundles need core's parser and are described by their thumbprint).
 */
export function describeCertificate(pem: string, now: Date): CertificateInfo | undefined {
  try {
    const cert = new X509Certificate(pem);
    const hex = (fp: string) => fp.replace(/:/g, '').toUpperCase();
    const notAfter = new Date(cert.validTo);
    return {
      subject: cert.subject.replace(/\n/g, ', '),
      thumbprintSha1: hex(cert.fingerprint),
      thumbprintSha256: hex(cert.fingerprint256),
      notAfter: notAfter.toISOString(),
      expiresInDays: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    };
  } catch {
    return undefined;
  }
}
