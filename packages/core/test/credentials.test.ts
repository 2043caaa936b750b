import { createHash, X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors/index.js';
import { defineConfig } from '../src/config/index.js';
import {
  describeCertificate,
  loadCertificateCredential,
  normalizeThumbprint,
  redactConfigWithCertificate,
} from '../src/credentials/index.js';
import { makeCertificate, makePfx, type TestCertificate } from './fixtures/certs.js';

const DAY = 86_400_000;

function thumbprints(pem: string) {
  const der = new X509Certificate(pem).raw;
  return {
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

function expectConfigError(fn: () => unknown, code: string, path: string): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe(code);
    expect(e.issues[0]?.path).toBe(path);
    return e;
  }
  throw new Error('expected a ConfigError');
}

let cert: TestCertificate;
let other: TestCertificate;
beforeAll(() => {
  cert = makeCertificate({ cn: 'smtp-app.contoso.com' });
  other = makeCertificate({ cn: 'other' });
});

describe('loadCertificateCredential from PEM', () => {
  it('computes thumbprints, x5t values, subject and validity', () => {
    const c = loadCertificateCredential({
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
    });
    const t = thumbprints(cert.certificatePem);
    expect(c.thumbprintSha1).toBe(t.sha1);
    expect(c.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    expect(c.thumbprintSha256).toBe(t.sha256);
    expect(c.x5t).toBe(Buffer.from(t.sha1, 'hex').toString('base64url'));
    expect(c.x5tS256).toBe(Buffer.from(t.sha256, 'hex').toString('base64url'));
    expect(c.subject).toBe('CN=smtp-app.contoso.com, O=Contoso');
    expect(c.keyType).toBe('rsa');
    expect(c.notBefore.getTime()).toBe(cert.notBefore.getTime());
    expect(c.notAfter.getTime()).toBe(cert.notAfter.getTime());
    expect(c.warnings).toEqual([]);
  });

  it('returns the key as PKCS#8 PEM, even when given PKCS#1', () => {
    expect(cert.privateKeyPem).toContain('BEGIN RSA PRIVATE KEY');
    const c = loadCertificateCredential(cert);
    expect(c.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('keeps the private key out of JSON, inspection and spreading', () => {
    const c = loadCertificateCredential(cert);
    expect(JSON.stringify(c)).not.toContain('PRIVATE KEY');
    expect(inspect(c, { depth: 5 })).not.toContain('PRIVATE KEY');
    expect(Object.keys(c)).not.toContain('privateKeyPem');
    expect(JSON.parse(JSON.stringify(c))).toMatchObject({ thumbprint: c.thumbprintSha1, subject: c.subject });
  });

  it('picks the leaf that matches the key from a chain', () => {
    const c = loadCertificateCredential({
      certificatePem: other.certificatePem + cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
    });
    expect(c.subject).toContain('smtp-app.contoso.com');
    expect(c.certificatePem).not.toContain(other.certificatePem.split('\n')[1]);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const e = expectConfigError(
      () =>
        loadCertificateCredential({
          certificatePem: cert.certificatePem,
          privateKeyPem: other.privateKeyPem,
        }),
      'CREDENTIAL_INVALID',
      'auth.credential.privateKeyPem',
    );
    expect(e.message).toContain('does not belong to the certificate');
    expect(e.message).not.toContain('PRIVATE KEY');
  });

  it('refuses unreadable PEM texts', () => {
    expectConfigError(
      () => loadCertificateCredential({ certificatePem: 'nope', privateKeyPem: cert.privateKeyPem }),
      'CREDENTIAL_INVALID',
      'auth.credential.certificatePem',
    );
    expectConfigError(
      () =>
        loadCertificateCredential({
          certificatePem: cert.certificatePem,
          privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
        }),
      'CREDENTIAL_INVALID',
      'auth.credential.privateKeyPem',
    );
    expectConfigError(
      () =>
        loadCertificateCredential({
          certificatePem: cert.certificatePem,
          privateKeyPem: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----',
        }),
      'CREDENTIAL_INVALID',
      'auth.credential.privateKeyPem',
    );
  });
});

describe('thumbprint check', () => {
  it.each([
    ['sha1 upper', (t: { sha1: string }) => t.sha1],
    ['sha1 lower with colons', (t: { sha1: string }) => t.sha1.toLowerCase().match(/../g)!.join(':')],
    ['sha1 with spaces', (t: { sha1: string }) => t.sha1.match(/..../g)!.join(' ')],
    ['sha256 lower', (t: { sha256: string }) => t.sha256.toLowerCase()],
  ])('accepts a matching thumbprint (%s)', (_label, pick) => {
    const t = thumbprints(cert.certificatePem);
    expect(() => loadCertificateCredential({ ...cert, thumbprint: pick(t) })).not.toThrow();
  });

  it('refuses a wrong thumbprint naming auth.credential.thumbprint with both values', () => {
    const wrong = 'AB'.repeat(20);
    const e = expectConfigError(
      () => loadCertificateCredential({ ...cert, thumbprint: wrong }),
      'CREDENTIAL_INVALID',
      'auth.credential.thumbprint',
    );
    expect(e.message).toContain(wrong);
    expect(e.message).toContain(thumbprints(cert.certificatePem).sha1);
  });

  it('compares a SHA-256 thumbprint against the SHA-256 value', () => {
    const e = expectConfigError(
      () => loadCertificateCredential({ ...cert, thumbprint: 'cd'.repeat(32) }),
      'CREDENTIAL_INVALID',
      'auth.credential.thumbprint',
    );
    expect(e.message).toContain(thumbprints(cert.certificatePem).sha256);
  });

  // Regression: a thumbprint copied from the Windows certificate dialog starts with U+200E, which
  // made the comparison fail with two values that look identical.
  it('names an invisible character in the thumbprint instead of reporting a mismatch', () => {
    const e = expectConfigError(
      () =>
        loadCertificateCredential({ ...cert, thumbprint: `\u200e${thumbprints(cert.certificatePem).sha1}` }),
      'CREDENTIAL_INVALID',
      'auth.credential.thumbprint',
    );
    expect(e.issues[0]?.message).toMatch(/U\+200E LEFT-TO-RIGHT MARK at the start/);
  });

  it('plain-JS input of the wrong shape → CREDENTIAL_INVALID naming the field, not a TypeError', () => {
    expectConfigError(
      () => loadCertificateCredential(undefined as never),
      'CREDENTIAL_INVALID',
      'auth.credential',
    );
    expectConfigError(
      () => loadCertificateCredential({ certificatePem: cert.certificatePem } as never),
      'CREDENTIAL_INVALID',
      'auth.credential.privateKeyPem',
    );
    expectConfigError(
      () => loadCertificateCredential({ pfxBase64: 42 } as never),
      'CREDENTIAL_INVALID',
      'auth.credential.pfxBase64',
    );
  });

  it('normalizeThumbprint', () => {
    expect(normalizeThumbprint('84:e0 5c:1d')).toBe('84E05C1D');
  });
});

describe('expiry (S16)', () => {
  it('refuses an expired certificate', () => {
    const old = makeCertificate({ notBefore: new Date(Date.now() - 400 * DAY), days: 365 });
    const e = expectConfigError(
      () => loadCertificateCredential(old),
      'CREDENTIAL_EXPIRED',
      'auth.credential.certificatePem',
    );
    expect(e.message).toContain('expired on');
  });

  it('refuses a certificate that is not valid yet', () => {
    const future = makeCertificate({ notBefore: new Date(Date.now() + 10 * DAY) });
    const e = expectConfigError(
      () => loadCertificateCredential(future),
      'CREDENTIAL_EXPIRED',
      'auth.credential.certificatePem',
    );
    expect(e.message).toContain('not valid before');
  });

  it('warns with 20 days left, using the injected clock', () => {
    const now = cert.notAfter.getTime() - 20 * DAY - 1000;
    const c = loadCertificateCredential(cert, { now: () => now });
    expect(c.warnings).toEqual([
      expect.objectContaining({ code: 'CERTIFICATE_EXPIRES_SOON', path: 'auth.credential' }),
    ]);
    expect(c.warnings[0]?.message).toContain('20 days');
    expect(c.daysUntilExpiry(now)).toBe(20);
    expect(c.daysUntilExpiry(new Date(now + 10 * DAY))).toBe(10);
  });

  it('does not warn with 31 days left; warnDays is configurable', () => {
    const now = cert.notAfter.getTime() - 31 * DAY - 1000;
    expect(loadCertificateCredential(cert, { now: () => now }).warnings).toEqual([]);
    expect(loadCertificateCredential(cert, { now: () => now, warnDays: 60 }).warnings).toHaveLength(1);
  });

  it('uses the injected clock for expiry too', () => {
    expectConfigError(
      () => loadCertificateCredential(cert, { now: () => cert.notAfter.getTime() + 1000 }),
      'CREDENTIAL_EXPIRED',
      'auth.credential.certificatePem',
    );
  });

  it('describeCertificate gives display facts only', () => {
    const c = loadCertificateCredential(cert);
    const info = describeCertificate(c, cert.notAfter.getTime() - 5 * DAY - 1);
    expect(info).toEqual({
      thumbprint: c.thumbprintSha1,
      thumbprintSha256: c.thumbprintSha256,
      subject: 'CN=smtp-app.contoso.com, O=Contoso',
      issuer: 'CN=smtp-app.contoso.com, O=Contoso',
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      daysUntilExpiry: 5,
    });
  });
});

describe('loadCertificateCredential from PFX', () => {
  it('opens a PFX with passphrase and matches the PEM result', () => {
    const pfx = makePfx(cert, 'correct horse');
    const c = loadCertificateCredential({ pfxBase64: pfx, passphrase: 'correct horse' });
    expect(c.thumbprintSha1).toBe(thumbprints(cert.certificatePem).sha1);
    expect(c.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(c.subject).toContain('smtp-app.contoso.com');
  });

  it('finds the leaf in a PFX that also holds another certificate', () => {
    const pfx = makePfx(cert, 'pw', [other.certificatePem]);
    expect(loadCertificateCredential({ pfxBase64: pfx, passphrase: 'pw' }).subject).toContain('smtp-app');
  });

  it('opens a PFX without passphrase', () => {
    const pfx = makePfx(cert, null);
    expect(loadCertificateCredential({ pfxBase64: pfx }).thumbprintSha1).toBe(
      thumbprints(cert.certificatePem).sha1,
    );
  });

  it('wrong passphrase → clear error on auth.credential.passphrase, never echoing it', () => {
    const pfx = makePfx(cert, 'correct horse');
    const e = expectConfigError(
      () => loadCertificateCredential({ pfxBase64: pfx, passphrase: 'battery staple' }),
      'CREDENTIAL_INVALID',
      'auth.credential.passphrase',
    );
    expect(e.message).toContain('wrong');
    expect(JSON.stringify(e)).not.toContain('battery staple');
  });

  it('missing passphrase → says it is required', () => {
    const pfx = makePfx(cert, 'correct horse');
    const e = expectConfigError(
      () => loadCertificateCredential({ pfxBase64: pfx }),
      'CREDENTIAL_INVALID',
      'auth.credential.passphrase',
    );
    expect(e.message).toContain('required');
  });

  it('garbage → not a PKCS#12 file', () => {
    expectConfigError(
      () => loadCertificateCredential({ pfxBase64: Buffer.from('hello world').toString('base64') }),
      'CREDENTIAL_INVALID',
      'auth.credential.pfxBase64',
    );
  });

  it('checks thumbprint and expiry for PFX too', () => {
    const pfx = makePfx(cert, 'pw');
    expectConfigError(
      () => loadCertificateCredential({ pfxBase64: pfx, passphrase: 'pw', thumbprint: '00'.repeat(20) }),
      'CREDENTIAL_INVALID',
      'auth.credential.thumbprint',
    );
    expectConfigError(
      () =>
        loadCertificateCredential(
          { pfxBase64: pfx, passphrase: 'pw' },
          { now: () => cert.notAfter.getTime() + DAY },
        ),
      'CREDENTIAL_EXPIRED',
      'auth.credential.pfxBase64',
    );
  });
});

describe('redactConfigWithCertificate', () => {
  const configWith = (credential: Record<string, unknown>) =>
    defineConfig({
      name: 'main',
      host: 'smtp.office365.com',
      user: 'noreply@contoso.com',
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
        clientId: '11111111-2222-3333-4444-555555555555',
        scope: 'https://outlook.office365.com/.default',
        credential: credential as never,
      },
    });

  it('adds subject, thumbprints and days left for a PFX, never the key or passphrase (S3)', () => {
    const pfx = makePfx(cert, 'pass-canary');
    const now = cert.notAfter.getTime() - 20 * DAY - 1000;
    const view = redactConfigWithCertificate(
      configWith({ kind: 'pfx', pfxBase64: pfx, passphrase: 'pass-canary' }),
      {
        now: () => now,
      },
    );
    expect(view.auth).toMatchObject({
      credential: {
        kind: 'pfx',
        set: true,
        certificate: {
          thumbprint: thumbprints(cert.certificatePem).sha1,
          subject: 'CN=smtp-app.contoso.com, O=Contoso',
          daysUntilExpiry: 20,
        },
      },
    });
    const json = JSON.stringify(view);
    expect(json).not.toContain('pass-canary');
    expect(json).not.toContain(pfx.slice(0, 40));
    expect(json).not.toContain('PRIVATE KEY');
  });

  it('reports the problem instead of throwing', () => {
    const view = redactConfigWithCertificate(
      configWith({
        kind: 'certificate',
        certificatePem: cert.certificatePem,
        privateKeyPem: other.privateKeyPem,
      }),
    );
    expect(view.auth).toMatchObject({
      credential: { kind: 'certificate', set: true, problem: { code: 'CREDENTIAL_INVALID' } },
    });
    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
  });

  it('leaves secret credentials as the plain redaction', () => {
    const view = redactConfigWithCertificate(configWith({ kind: 'secret', secret: 'Abc8Q~canary' }));
    expect(view.auth).toMatchObject({ credential: { kind: 'secret', clientSecretSet: true } });
    expect(JSON.stringify(view)).not.toContain('canary');
  });
});
