import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

describeDrivers('sandbox practice credentials', (driver) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** An entry as an admin types it from the portal's values. */
  const entryFrom = (facts: Json, name: string, credential: Json) => ({
    name,
    host: facts.smtp.host,
    port: facts.smtp.port,
    user: facts.mailbox,
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: facts.tokenEndpoint,
      clientId: facts.clientId,
      scope: facts.scope,
      credential,
    },
    tls: { ca: facts.caPem },
  });

  it('a client secret made on request and the downloaded PFX each make a working entry', async () => {
    // The sandbox's fake Microsoft runs on the real clock: so does this server.
    h = await startHarness(driver, { sandbox: true, now: () => new Date() });
    await h.login();
    const facts = await json(await h.api('/api/sandbox/practice'));
    expect(facts).toMatchObject({ tenantId: expect.any(String), clientId: expect.any(String) });
    expect(facts.files.map((f: Json) => f.name)).toEqual([
      'certificate.pem',
      'private-key.pem',
      'certificate.pfx',
      'ca.pem',
    ]);
    facts.caPem = await (await h.api('/api/sandbox/practice/files/ca.pem')).text();
    expect(facts.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const created = await h.api('/api/sandbox/practice/client-secret', { method: 'POST' });
    expect(created.status).toBe(201);
    const secret = await json(created);
    const withSecret = await h.api('/api/email-servers', {
      body: entryFrom(facts, 'practice secret', { kind: 'secret', secret: secret.value }),
    });
    expect(withSecret.status).toBe(201);
    const secretId = (await json(withSecret)).emailServer.id;
    const token = await h.api(`/api/email-servers/${secretId}/test-token`, { method: 'POST' });
    expect(token.status).toBe(200);
    const tokenBody = await json(token);
    expect(tokenBody.ok, JSON.stringify(tokenBody.findings)).toBe(true);

    const pfx = await h.api('/api/sandbox/practice/files/certificate.pfx');
    expect(pfx.headers.get('content-type')).toContain('application/x-pkcs12');
    expect(pfx.headers.get('content-disposition')).toContain('sandbox-certificate.pfx');
    const pfxBase64 = Buffer.from(await pfx.arrayBuffer()).toString('base64');
    const withPfx = await h.api('/api/email-servers', {
      body: entryFrom(facts, 'practice pfx', {
        kind: 'pfx',
        pfxBase64,
        passphrase: facts.pfxPassphrase,
        thumbprint: facts.thumbprintSha1,
      }),
    });
    expect(withPfx.status, await withPfx.clone().text()).toBe(201);
    const pfxId = (await json(withPfx)).emailServer.id;
    const pfxToken = await json(await h.api(`/api/email-servers/${pfxId}/test-token`, { method: 'POST' }));
    expect(pfxToken.ok).toBe(true);
    expect(pfxToken.claims.appidacr).toBe('2');
  });

  it('exists only in sandbox mode and only for a signed-in admin', async () => {
    h = await startHarness(driver);
    expect((await h.api('/api/sandbox/practice', { cookie: false })).status).toBe(401);
    await h.login();
    const res = await h.api('/api/sandbox/practice');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('NOT_SANDBOX');
    expect((await h.api('/api/sandbox/practice/client-secret', { method: 'POST' })).status).toBe(404);
  });
});
