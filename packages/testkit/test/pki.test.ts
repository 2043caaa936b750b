import { createHash, X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, createClientCertificate, thumbprints } from '../src/pki/index.js';

function get(port: number, ca: string | undefined, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca, servername, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pki', () => {
  it('a server certificate from the CA is trusted by a client that trusts only that CA', async () => {
    const ca = createCertificateAuthority();
    const leaf = ca.issueServerCertificate();
    const server = createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await get(port, ca.certificatePem)).toBe('ok');
      expect(await get(port, ca.certificatePem, 'localhost')).toBe('ok');
      await expect(get(port, undefined)).rejects.toThrow(/self-signed|unable to verify|self signed/i);
      await expect(get(port, createCertificateAuthority().certificatePem)).rejects.toThrow();
      const x509 = new X509Certificate(leaf.certificatePem);
      expect(x509.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
      expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
      expect(new X509Certificate(ca.certificatePem).ca).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('client certificate thumbprints match node:crypto fingerprints; x5t/x5t#S256 are base64url of the bytes', () => {
    const cert = createClientCertificate({ commonName: 'thumbprint test' });
    const x509 = new X509Certificate(cert.certificatePem);
    expect(cert.thumbprintSha1).toBe(x509.fingerprint.replaceAll(':', ''));
    expect(cert.thumbprintSha256).toBe(x509.fingerprint256.replaceAll(':', ''));
    expect(cert.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    expect(Buffer.from(cert.x5t, 'base64url').toString('hex').toUpperCase()).toBe(cert.thumbprintSha1);
    expect(Buffer.from(cert.x5tS256, 'base64url').toString('hex').toUpperCase()).toBe(cert.thumbprintSha256);
    expect(cert.x5t).toBe(createHash('sha1').update(x509.raw).digest('base64url'));
    expect(thumbprints(cert.certificatePem)).toEqual({
      thumbprintSha1: cert.thumbprintSha1,
      thumbprintSha256: cert.thumbprintSha256,
      x5t: cert.x5t,
      x5tS256: cert.x5tS256,
    });
    expect(cert.subject).toBe('CN=thumbprint test');
  });

  it('client certificate validity follows the options; the private key matches the certificate', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2026-02-01T00:00:00Z');
    const cert = createClientCertificate({ notBefore, notAfter });
    const x509 = new X509Certificate(cert.certificatePem);
    expect(new Date(x509.validFrom).getTime()).toBe(notBefore.getTime());
    expect(new Date(x509.validTo).getTime()).toBe(notAfter.getTime());
    expect(x509.checkPrivateKey(createPrivateKey(cert.privateKeyPem))).toBe(true);
  });
});
