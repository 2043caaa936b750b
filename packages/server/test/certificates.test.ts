import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, secretEntry, startHarness } from './helpers/harness.js';

const certPem = readFileSync(new URL('./fixtures/client-cert.pem', import.meta.url), 'utf8');
const keyPem = readFileSync(new URL('./fixtures/client-key.pem', import.meta.url), 'utf8');
// The same pair as PKCS#12 (3DES, passphrase "fixture-pass").
const pfxBase64 = readFileSync(new URL('./fixtures/client.pfx.b64', import.meta.url), 'utf8').trim();
const NOT_AFTER = Date.parse('2036-11-23T20:59:40Z');

function entry(name: string, credential: Record<string, unknown>) {
  const e = secretEntry({ name });
  return { ...e, auth: { ...e.auth, credential } };
}

// S16 through core's credential loader: no certificate logic of the server's own.
describeDrivers('certificate credentials (S16)', (driver) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('a key that does not belong to the certificate → 400 naming the key field', async () => {
    h = await startHarness(driver);
    await h.login();
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const res = await h.api('/api/email-servers', {
      body: entry('Mismatch', { kind: 'certificate', certificatePem: certPem, privateKeyPem: otherKey }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('CREDENTIAL_INVALID');
    expect(body.error.issues.map((i: Json) => i.path)).toEqual(['auth.credential.privateKeyPem']);
    expect(JSON.stringify(body)).not.toContain('PRIVATE KEY');
  });

  it('a certificate with 20 days left → saved, with the expiry warning in the response', async () => {
    h = await startHarness(driver);
    h.clock.advance(NOT_AFTER - 20 * 86_400_000 - 3_600_000 - h.clock.now().getTime());
    await h.login();
    const res = await h.api('/api/email-servers', {
      body: entry('Soon', { kind: 'certificate', certificatePem: certPem, privateKeyPem: keyPem }),
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.warnings.map((w: Json) => w.code)).toContain('CERTIFICATE_EXPIRES_SOON');
    expect(body.emailServer.certificate).toMatchObject({
      subject: 'CN=smtp-oauth-server-test',
      daysUntilExpiry: 20,
      thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    const got = await json(await h.api(`/api/email-servers/${body.emailServer.id}`));
    expect(got.warnings.map((w: Json) => w.code)).toContain('CERTIFICATE_EXPIRES_SOON');

    // Past expiry the stored entry reports the problem instead of failing to list.
    h.clock.advance(21 * 86_400_000);
    await h.login(); // the session has timed out meanwhile
    const list = await json(await h.api('/api/email-servers'));
    expect(list.emailServers[0].certificateProblem).toMatchObject({ code: 'CREDENTIAL_EXPIRED' });
  });

  it('PFX with passphrase: accepted and described; a wrong passphrase → 400 naming it', async () => {
    h = await startHarness(driver);
    await h.login();
    const ok = await h.api('/api/email-servers', {
      body: entry('Pfx', { kind: 'pfx', pfxBase64, passphrase: 'fixture-pass' }),
    });
    const okBody = await json(ok);
    expect(ok.status, JSON.stringify(okBody)).toBe(201);
    expect(okBody.emailServer.certificate.subject).toBe('CN=smtp-oauth-server-test');
    expect(JSON.stringify(okBody)).not.toContain(pfxBase64.slice(100, 160));
    expect(JSON.stringify(okBody)).not.toContain('fixture-pass');

    const wrong = await h.api('/api/email-servers', {
      body: entry('Pfx2', { kind: 'pfx', pfxBase64, passphrase: 'nope' }),
    });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error.issues.map((i: Json) => i.path)).toEqual(['auth.credential.passphrase']);

    // An update without the PFX and passphrase keeps both (S3) and still describes the certificate.
    const id = okBody.emailServer.id;
    const kept = await h.api(`/api/email-servers/${id}`, {
      method: 'PUT',
      body: entry('Pfx', { kind: 'pfx' }),
    });
    expect(kept.status).toBe(200);
    expect((await json(kept)).emailServer.certificate.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    // A PFX uploaded again comes with its own passphrase: the stored one belongs to the old file.
    const reupload = await h.api(`/api/email-servers/${id}`, {
      method: 'PUT',
      body: entry('Pfx', { kind: 'pfx', pfxBase64 }),
    });
    expect(reupload.status).toBe(400);
    expect((await json(reupload)).error.issues.map((i: Json) => i.path)).toEqual([
      'auth.credential.passphrase',
    ]);
  });
});
