import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { loadEmailServerConfig } from '../src/email-servers.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, secretEntry, startHarness } from './helpers/harness.js';

// Regression (issue 13 §1, S3): an update that moved an entry to another host, port, TLS trust,
// token endpoint or provider kept the stored secret, so the next send carried it to the new destination.

const CANARY = 'CANARY-stored-secret-5f1e';
const caPem = readFileSync(new URL('./fixtures/client-cert.pem', import.meta.url), 'utf8');
const certPem = caPem;
const keyPem = readFileSync(new URL('./fixtures/client-key.pem', import.meta.url), 'utf8');

type Entry = ReturnType<typeof secretEntry> & Record<string, unknown>;
const withoutSecret = (e: Entry): Entry => ({
  ...e,
  auth: { ...e.auth, credential: { kind: 'secret' } as never },
});
const passwordEntry = (over: Record<string, unknown> = {}) => ({
  name: 'Relay',
  host: 'smtp.example.net',
  port: 587,
  security: 'starttls',
  user: 'noreply@example.net',
  auth: { type: 'password', password: CANARY },
  ...over,
});

/** Each destination field, the change an editor could make, and the entry it starts from. */
const oauthCases: { field: string; change: (e: Entry) => Entry; base?: (e: Entry) => Entry }[] = [
  { field: 'host', change: (e) => ({ ...e, host: 'smtp-mail.outlook.com' }) },
  { field: 'port', change: (e) => ({ ...e, port: 2525 }) },
  {
    field: 'security',
    base: (e) => ({ ...e, port: 2525, security: 'starttls' }),
    change: (e) => ({ ...e, port: 2525, security: 'tls' }),
  },
  { field: 'tls.ca', change: (e) => ({ ...e, tls: { ca: caPem } }) },
  {
    field: 'auth.tokenEndpoint',
    change: (e) => ({
      ...e,
      auth: {
        ...e.auth,
        tokenEndpoint:
          'https://login.microsoftonline.com/99999999-2222-3333-4444-555555555555/oauth2/v2.0/token',
      },
    }),
  },
  {
    field: 'auth.provider',
    change: (e) => ({ ...e, auth: { ...e.auth, provider: 'generic' as 'entra' } }),
  },
];

describeDrivers('a stored secret never follows a changed destination (S3)', (driver) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function put(id: string, body: unknown) {
    const res = await h.api(`/api/email-servers/${id}`, { method: 'PUT', body });
    const text = await res.text();
    expect(text).not.toContain(CANARY);
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
  }

  async function create(body: unknown): Promise<string> {
    const res = await h.api('/api/email-servers', { body });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as Json).emailServer.id;
  }

  for (const c of oauthCases) {
    it(`client secret: a new ${c.field} without the secret → 400 naming auth.credential.secret; with it → 200`, async () => {
      h = await startHarness(driver);
      await h.login();
      const base = (c.base ?? ((e) => e))(secretEntry({ secret: CANARY }) as Entry);
      const id = await create(base);
      const before = await h.server.context.repos.emailServers.get(id);

      const refused = await put(id, withoutSecret(c.change(base)));
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('SECRET_REQUIRED');
      expect(refused.body.error.issues).toEqual([
        { path: 'auth.credential.secret', message: expect.stringContaining(c.field) },
      ]);
      // Nothing was written: the entry still points where the secret was entered for.
      expect(await h.server.context.repos.emailServers.get(id)).toEqual(before);

      const moved = c.change({
        ...base,
        auth: { ...base.auth, credential: { kind: 'secret', secret: 'new~value' } },
      });
      expect((await put(id, moved)).status).toBe(200);
      const stored = await loadEmailServerConfig(h.server.context, id);
      expect(stored?.auth.type === 'oauth2' && stored.auth.credential).toEqual({
        kind: 'secret',
        secret: 'new~value',
      });
    });
  }

  it('a change of anything else (name, user, scope, limits) keeps the stored secret', async () => {
    h = await startHarness(driver);
    await h.login();
    const base = secretEntry({ secret: CANARY }) as Entry;
    const id = await create(base);
    const edited = {
      ...withoutSecret(base),
      name: 'Renamed',
      user: 'other@contoso.com',
      limits: { maxConnections: 2 },
    };
    const { port: _port, security: _security, ...defaultsOmitted } = edited;
    expect((await put(id, defaultsOmitted)).status).toBe(200);
    const stored = await loadEmailServerConfig(h.server.context, id);
    expect(stored?.auth.type === 'oauth2' && stored.auth.credential).toEqual({
      kind: 'secret',
      secret: CANARY,
    });
  });

  it('password: new host, port and tls.ca without the password → 400 naming auth.password (the repro)', async () => {
    h = await startHarness(driver);
    await h.login();
    const id = await create(passwordEntry());
    const refused = await put(id, {
      ...passwordEntry({ host: 'mail.example.org', port: 465, security: 'tls', tls: { ca: caPem } }),
      auth: { type: 'password' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      { path: 'auth.password', message: expect.stringContaining('host, port, security, tls.ca changed') },
    ]);
    const stored = await loadEmailServerConfig(h.server.context, id);
    expect(stored?.host).toBe('smtp.example.net');
    // The same edit of the name alone keeps the password.
    expect(
      (await put(id, { ...passwordEntry({ name: 'Relay 2' }), auth: { type: 'password' } })).status,
    ).toBe(200);
  });

  it('auth type: a password entry switched to OAuth2 never reuses the password as a client secret', async () => {
    h = await startHarness(driver);
    await h.login();
    const id = await create(passwordEntry());
    const e = secretEntry() as Entry;
    const refused = await put(id, { ...withoutSecret(e), host: 'smtp.example.net' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toContainEqual(
      expect.objectContaining({ path: 'auth.credential.secret' }),
    );
  });

  it('certificate: a new host without the key → 400 naming auth.credential.privateKeyPem; key and certificate kept otherwise', async () => {
    h = await startHarness(driver);
    await h.login();
    const e = secretEntry() as Entry;
    const base = {
      ...e,
      auth: {
        ...e.auth,
        credential: { kind: 'certificate', certificatePem: certPem, privateKeyPem: keyPem },
      },
    };
    const id = await create(base);
    const bare = { ...base, auth: { ...base.auth, credential: { kind: 'certificate' } } };
    const refused = await put(id, { ...bare, host: 'smtp-mail.outlook.com' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      { path: 'auth.credential.privateKeyPem', message: expect.stringContaining('host changed') },
    ]);
    expect((await put(id, { ...bare, name: 'Cert 2' })).status).toBe(200);
    const moved = await put(id, { ...base, host: 'smtp-mail.outlook.com' });
    expect(moved.status).toBe(200);
  });
});
