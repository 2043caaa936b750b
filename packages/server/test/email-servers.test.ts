import { readFileSync } from 'node:fs';
import { createClientCertificate } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEmailServerConfig } from '../src/email-servers.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, secretEntry, startHarness } from './helpers/harness.js';

const CANARY = 'CANARY-client-secret-91b2c3d4';
const certPem = readFileSync(new URL('./fixtures/client-cert.pem', import.meta.url), 'utf8');
const keyPem = readFileSync(new URL('./fixtures/client-key.pem', import.meta.url), 'utf8');
// A distinctive slice of the private key body: it must never come back.
const KEY_CANARY = keyPem.split('\n')[5]!;

function certificateEntry(name = 'Cert') {
  const e = secretEntry({ name });
  return {
    ...e,
    auth: { ...e.auth, credential: { kind: 'certificate', certificatePem: certPem, privateKeyPem: keyPem } },
  };
}

describeDrivers('email servers API', (driver) => {
  let h: Harness;
  const responses: string[] = [];
  /** Every response body of the test is collected for the canary check (S3). */
  async function call(
    path: string,
    init?: Parameters<Harness['api']>[1],
  ): Promise<{ status: number; body: Json }> {
    const res = await h.api(path, init);
    const text = await res.text();
    responses.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  afterEach(async () => {
    await h?.close();
    responses.length = 0;
  });

  it('create, list, get, update, set default, delete — secrets never returned (S3)', async () => {
    h = await startHarness(driver);
    await h.login();
    const created = await call('/api/email-servers', { body: secretEntry({ secret: CANARY }) });
    expect(created.status).toBe(201);
    const e = created.body.emailServer;
    expect(e).toMatchObject({
      name: 'Contoso',
      isDefault: true,
      clientSecretSet: true,
      passwordSet: false,
      certificate: null,
    });
    expect(e.config.auth.credential).toEqual({ kind: 'secret', clientSecretSet: true });
    expect(created.body.warnings.map((w: Json) => w.code)).toContain('CLIENT_SECRET_NOT_RECOMMENDED');

    const second = await call('/api/email-servers', { body: certificateEntry() });
    expect(second.status).toBe(201);
    expect(second.body.emailServer.isDefault).toBe(false);
    expect(second.body.emailServer.certificate).toMatchObject({
      subject: 'CN=smtp-oauth-server-test',
      thumbprintSha256: expect.stringMatching(/^[0-9A-F]{64}$/),
      thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    expect(second.body.emailServer.certificate.daysUntilExpiry).toBeGreaterThan(30);
    // One name per fact (issue 11 §9): the old aliases are gone from the view.
    expect(second.body.emailServer.certificate).not.toHaveProperty('thumbprintSha1');
    expect(second.body.emailServer.certificate).not.toHaveProperty('expiresInDays');

    const list = await call('/api/email-servers');
    expect(list.body.emailServers.map((s: Json) => s.name)).toEqual(['Cert', 'Contoso']);
    const got = (await call(`/api/email-servers/${e.id}`)).body;
    expect(got.emailServer.id).toBe(e.id);
    expect(got.warnings.map((w: Json) => w.code)).toContain('CLIENT_SECRET_NOT_RECOMMENDED');

    // Update without the secret keeps it.
    const { auth, ...rest } = secretEntry();
    const withoutSecret = { ...rest, port: 587, auth: { ...auth, credential: { kind: 'secret' } } };
    const updated = await call(`/api/email-servers/${e.id}`, {
      method: 'PUT',
      body: { ...withoutSecret, name: 'Contoso EU' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.emailServer).toMatchObject({ name: 'Contoso EU', clientSecretSet: true });
    const kept = await loadEmailServerConfig(h.server.context, e.id);
    expect(
      kept?.auth.type === 'oauth2' && kept.auth.credential.kind === 'secret' && kept.auth.credential.secret,
    ).toBe(CANARY);

    // A certificate entry updated without its key keeps the key.
    const c = second.body.emailServer;
    const certNoKey = certificateEntry();
    certNoKey.auth.credential = { kind: 'certificate', certificatePem: certPem } as never;
    expect((await call(`/api/email-servers/${c.id}`, { method: 'PUT', body: certNoKey })).status).toBe(200);
    const certKept = await loadEmailServerConfig(h.server.context, c.id);
    expect(
      certKept?.auth.type === 'oauth2' &&
        certKept.auth.credential.kind === 'certificate' &&
        certKept.auth.credential.privateKeyPem,
    ).toBe(keyPem);

    // Switching credential kind does not carry the old secret over.
    const switchKind = await call(`/api/email-servers/${c.id}`, {
      method: 'PUT',
      body: { ...withoutSecret, name: 'Cert' },
    });
    expect(switchKind.status).toBe(400);
    expect(switchKind.body.error.issues).toContainEqual(
      expect.objectContaining({ path: 'auth.credential.secret' }),
    );

    const def = await call(`/api/email-servers/${c.id}/default`, { method: 'POST' });
    expect(def.body.emailServer.isDefault).toBe(true);
    expect((await call(`/api/email-servers/${e.id}`)).body.emailServer.isDefault).toBe(false);

    expect((await call(`/api/email-servers/${e.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/api/email-servers/${e.id}`)).status).toBe(404);
    expect((await call(`/api/email-servers/${e.id}`, { method: 'DELETE' })).status).toBe(404);

    // S3: no response of this whole session carried the secret or the private key.
    const all = responses.join('\n');
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain(KEY_CANARY);
    expect(all).not.toContain('PRIVATE KEY');
    // S4 (server's share): no log line carries them either.
    expect(h.logger.lines.join('\n')).not.toContain(CANARY);
    expect(h.logger.lines.join('\n')).not.toContain(KEY_CANARY);
  });

  it('validates with core: field paths and fixes; duplicate names → 409', async () => {
    h = await startHarness(driver);
    await h.login();
    const e = secretEntry();
    const bad = await call('/api/email-servers', {
      body: { ...e, auth: { ...e.auth, scope: 'Mail.Send' }, extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const paths = bad.body.error.issues.map((i: Json) => i.path);
    expect(paths).toContain('auth.scope');
    expect(paths).toContain('(root)');
    expect((await call('/api/email-servers', { body: e })).status).toBe(201);
    const dup = await call('/api/email-servers', { body: e });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('NAME_TAKEN');
  });

  describe('S5 token endpoint guard', () => {
    it.each([
      ['http://169.254.169.254/latest/meta-data', 'https'],
      ['https://login.microsoftonline.com.evil.tld/tenant/oauth2/v2.0/token', 'allow-list'],
      ['https://u@login.microsoftonline.com/tenant/oauth2/v2.0/token', 'user'],
      ['https://evil.example/oauth2/v2.0/token', 'allow-list'],
    ])('%s → 400 naming auth.tokenEndpoint', async (tokenEndpoint) => {
      h = await startHarness(driver);
      await h.login();
      const e = secretEntry({ tokenEndpoint });
      const res = await call('/api/email-servers', {
        body: { ...e, auth: { ...e.auth, provider: 'generic' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.issues.map((i: Json) => i.path)).toContain('auth.tokenEndpoint');
    });

    it('accepts the national clouds by default and operator-added hosts, not API-supplied ones', async () => {
      h = await startHarness(driver, { tokenHostAllowlist: ['idp.example.org'] });
      await h.login();
      for (const [i, host] of ['login.microsoftonline.us', 'login.partner.microsoftonline.cn'].entries()) {
        // One entry, one cloud: the SMTP host of the token endpoint's cloud (core refuses a mix).
        const e = secretEntry({
          name: `cloud${i}`,
          host: host.endsWith('.us') ? 'smtp.office365.us' : 'smtp.partner.outlook.cn',
          tokenEndpoint: `https://${host}/contoso.onmicrosoft.com/oauth2/v2.0/token`,
        });
        const scope = host.endsWith('.us')
          ? 'https://outlook.office365.us/.default'
          : 'https://partner.outlook.cn/.default';
        const res = await call('/api/email-servers', { body: { ...e, auth: { ...e.auth, scope } } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
      const generic = secretEntry({ name: 'generic', tokenEndpoint: 'https://idp.example.org/token' });
      const ok = await call('/api/email-servers', {
        body: { ...generic, auth: { ...generic.auth, provider: 'generic' } },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    });
  });

  describe('S6 SMTP host guard', () => {
    it.each(['127.0.0.1', '10.0.0.5', '::ffff:169.254.169.254', '169.254.169.254', '::1', 'fd00::1'])(
      'host %s → 400 naming host',
      async (host) => {
        h = await startHarness(driver);
        await h.login();
        const res = await call('/api/email-servers', { body: secretEntry({ host }) });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('SMTP_HOST_NOT_ALLOWED');
        expect(res.body.error.issues[0].path).toBe('host');
      },
    );

    it('checks what a name resolves to', async () => {
      h = await startHarness(driver, { smtp: { resolveHost: async () => ['52.96.0.1', '10.1.2.3'] } });
      await h.login();
      const res = await call('/api/email-servers', { body: secretEntry({ host: 'smtp.rebind.example' }) });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('10.1.2.3');
    });

    // Regression: a host this machine could not resolve blocked saving the entry.
    it('a host that does not resolve now saves with a warning; a private address is still refused', async () => {
      h = await startHarness(driver, {
        smtp: {
          resolveHost: async () => {
            throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
          },
        },
      });
      await h.login();
      const res = await call('/api/email-servers', { body: secretEntry({ host: 'smtp.internal.example' }) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.warnings).toContainEqual(
        expect.objectContaining({ path: 'host', code: 'HOST_UNRESOLVABLE' }),
      );
    });

    it('validation issues carry core’s code', async () => {
      h = await startHarness(driver);
      await h.login();
      const res = await call('/api/email-servers', { body: { ...secretEntry(), user: '' } });
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toContainEqual({
        path: 'user',
        message: expect.any(String),
        code: 'REQUIRED',
      });
    });

    it('allows private hosts when the operator says so; sandbox mode allows exactly its testkit', async () => {
      h = await startHarness(driver, { smtp: { allowPrivateHosts: true } });
      await h.login();
      expect((await call('/api/email-servers', { body: secretEntry({ host: '10.0.0.5' }) })).status).toBe(
        201,
      );
      await h.close();
      h = await startHarness(driver, { sandbox: true });
      await h.login();
      const smtp = h.server.sandbox!.info.smtp;
      const tokenEndpoint = h.server.sandbox!.info.tokenEndpoint;
      const sandboxed = secretEntry({ name: 'kit', host: smtp.host, tokenEndpoint });
      const ok = await call('/api/email-servers', { body: { ...sandboxed, port: smtp.port } });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      // Loopback in general is not allowed: another port, another address, another token port.
      const otherPort = await call('/api/email-servers', {
        body: secretEntry({ name: 'x', host: '127.0.0.1' }),
      });
      expect(otherPort.status).toBe(400);
      expect(otherPort.body.error.issues[0].path).toBe('host');
      expect(
        (await call('/api/email-servers', { body: secretEntry({ name: 'y', host: '10.0.0.5' }) })).status,
      ).toBe(400);
      const url = new URL(tokenEndpoint);
      url.port = String(Number(url.port) + 1);
      const otherToken = await call('/api/email-servers', {
        body: {
          ...secretEntry({ name: 'z', host: smtp.host, tokenEndpoint: url.toString() }),
          port: smtp.port,
        },
      });
      expect(otherToken.status).toBe(400);
      expect(otherToken.body.error.issues[0].path).toBe('auth.tokenEndpoint');
    });
  });

  it('S14: changing a secret is audited by field name, never value', async () => {
    h = await startHarness(driver);
    await h.login();
    const { emailServer } = (
      await call('/api/email-servers', { body: secretEntry({ secret: 'first-value-1' }) })
    ).body;
    await call(`/api/email-servers/${emailServer.id}`, {
      method: 'PUT',
      body: secretEntry({ secret: CANARY }),
    });
    const { entries } = (await call('/api/audit')).body;
    const update = entries.find((e: Json) => e.action === 'email-server.update');
    expect(update).toMatchObject({
      actor: 'admin:admin@example.test',
      target: emailServer.id,
      outcome: 'ok',
    });
    expect(update.fields).toEqual(['auth.credential.secret']);
    const create = entries.find((e: Json) => e.action === 'email-server.create');
    expect(create.fields).toEqual(
      expect.arrayContaining(['host', 'auth.clientId', 'auth.credential.secret']),
    );
    const raw = JSON.stringify(entries);
    expect(raw).not.toContain(CANARY);
    expect(raw).not.toContain('first-value-1');
  });

  it('requires a session', async () => {
    h = await startHarness(driver);
    expect((await call('/api/email-servers')).status).toBe(401);
    expect((await call('/api/email-servers', { body: secretEntry() })).status).toBe(401);
  });

  it('a certificate entry saved without certificate fields keeps certificate and key; a new upload or kind replaces them', async () => {
    h = await startHarness(driver);
    await h.login();
    const created = await call('/api/email-servers', { body: certificateEntry() });
    const c = created.body.emailServer;
    // What the editor sends when another field changed: the credential kind, no PEM parts.
    const keep = certificateEntry('Cert renamed');
    keep.auth.credential = { kind: 'certificate' } as never;
    const kept = await call(`/api/email-servers/${c.id}`, { method: 'PUT', body: keep });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.emailServer).toMatchObject({ name: 'Cert renamed', certificate: c.certificate });
    const stored = await loadEmailServerConfig(h.server.context, c.id);
    expect(stored?.auth.type === 'oauth2' && stored.auth.credential).toMatchObject({
      kind: 'certificate',
      certificatePem: certPem,
      privateKeyPem: keyPem,
    });

    // A new certificate without its key: the stored key belongs to the old one, so it is not reused.
    const other = createClientCertificate({ commonName: 'another certificate' });
    const newCert = certificateEntry('Cert renamed');
    newCert.auth.credential = { kind: 'certificate', certificatePem: other.certificatePem } as never;
    const refused = await call(`/api/email-servers/${c.id}`, { method: 'PUT', body: newCert });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toContainEqual(
      expect.objectContaining({ path: 'auth.credential.privateKeyPem' }),
    );

    // Switching to a client secret replaces the certificate: nothing of it stays stored.
    const secret = await call(`/api/email-servers/${c.id}`, {
      method: 'PUT',
      body: secretEntry({ name: 'Cert renamed', secret: CANARY }),
    });
    expect(secret.status).toBe(200);
    expect(secret.body.emailServer).toMatchObject({ certificate: null, clientSecretSet: true });
    const record = await h.server.context.repos.emailServers.get(c.id);
    expect(JSON.stringify(record)).not.toContain('BEGIN CERTIFICATE');
    expect(Object.keys(record?.secrets ?? {})).toEqual(['auth.credential.secret']);
    // …and back to a certificate without uploading one is refused: there is none to keep.
    const back = await call(`/api/email-servers/${c.id}`, { method: 'PUT', body: keep });
    expect(back.status).toBe(400);
    expect(back.body.error.issues).toContainEqual(
      expect.objectContaining({ path: 'auth.credential.certificatePem' }),
    );
  });
});
