import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { createTokenServer, type TokenServer } from '@org/testkit/token';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

// Regression (issue 13 §2, S5): an allow-listed host served OpenID metadata whose token_endpoint
// named another host, and the Entra provider (MSAL) posted the client secret there, although
// configuring that host directly was refused. Real servers: the testkit's token server on 127.0.0.1
// (allow-listed) advertises the endpoints of a second one on 127.0.0.2 (not allow-listed; same
// directory and keys, so it would issue a token), which counts every HTTP request it receives.

describeDrivers('the token-host allow-list guards every URL a token client contacts (S5)', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  let outside: TokenServer | undefined;
  let lure: TokenServer | undefined;
  afterEach(async () => {
    await h?.close();
    await lure?.close();
    await outside?.close();
    await env?.close();
    h = env = outside = lure = undefined;
  });

  async function start(options: { mailerThread?: false } = {}) {
    const kit = await createTestEnvironment();
    env = kit;
    const shared = { directory: kit.directory, clock: kit.clock, ca: kit.tokenServer.ca };
    const far = await createTokenServer({ ...shared, shareKeysWith: kit.tokenServer, host: '127.0.0.2' });
    outside = far;
    const near = await createTokenServer({
      ...shared,
      shareKeysWith: kit.tokenServer,
      host: '127.0.0.1',
      advertisedBaseUrl: far.url,
    });
    lure = near;
    const harness = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      ...(options.mailerThread === false ? { mailerThread: false } : {}),
    });
    h = harness;
    await harness.login();
    return { kit, far, near, h: harness };
  }

  async function createEntry(harness: Harness, config: Json): Promise<string> {
    const res = await harness.api('/api/email-servers', { body: config });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await json(res)).emailServer.id as string;
  }

  /** Reads an answer and checks that the client secret is nowhere in it. */
  async function read(res: Response, secret: string): Promise<Json> {
    const text = await res.text();
    expect(text).not.toContain(secret);
    return JSON.parse(text) as Json;
  }

  it('control: configuring the other host directly is refused (400 TOKEN_ENDPOINT_NOT_ALLOWED)', async () => {
    const { kit, far, h } = await start();
    const res = await h.api('/api/email-servers', {
      body: { ...kit.config, auth: { ...kit.config.auth, tokenEndpoint: far.tokenEndpoint(kit.tenantId) } },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
    expect(far.httpRequestCount()).toBe(0);
  });

  for (const thread of ['mailer thread', 'main thread'] as const) {
    it(`test-token (${thread}): metadata naming 127.0.0.2 → 502 TOKEN_ENDPOINT_NOT_ALLOWED, 0 requests reach 127.0.0.2`, async () => {
      const { kit, far, near, h } = await start(thread === 'main thread' ? { mailerThread: false } : {});
      const id = await createEntry(h, {
        ...kit.config,
        auth: { ...kit.config.auth, tokenEndpoint: near.tokenEndpoint(kit.tenantId) },
      });
      const res = await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' });
      expect(res.status).toBe(502);
      const body = await read(res, kit.clientSecret);
      expect(body.error.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
      expect(body.error.message).toContain('127.0.0.2');
      expect(body.error.hint).toContain('TOKEN_HOST_ALLOWLIST');
      // The allowed host was asked for its metadata; the secret never left for the other one.
      expect(near.httpRequestCount()).toBeGreaterThan(0);
      expect(far.httpRequestCount()).toBe(0);
    });
  }

  it('send-test, diagnose and /api/send: the same refusal, 0 requests reach 127.0.0.2', async () => {
    const { kit, far, near, h } = await start();
    const id = await createEntry(h, {
      ...kit.config,
      auth: { ...kit.config.auth, tokenEndpoint: near.tokenEndpoint(kit.tenantId) },
    });

    const test = await read(
      await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'tester@example.com' } }),
      kit.clientSecret,
    );
    expect(test.ok).toBe(false);
    expect(test.error.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');

    const diagnosis = await read(
      await h.api(`/api/email-servers/${id}/diagnose`, { method: 'POST' }),
      kit.clientSecret,
    );
    expect(diagnosis.ok).toBe(false);
    const tokenStep = diagnosis.steps.find((s: Json) => s.id === 'token');
    expect(tokenStep.status).toBe('fail');
    expect(JSON.stringify(tokenStep)).toContain('TOKEN_ENDPOINT_NOT_ALLOWED');

    const key = (await json(await h.api('/api/api-keys', { body: { name: 'app', emailServerIds: [id] } })))
      .key;
    const sent = await h.api('/api/send', {
      body: { to: 'a@example.com', subject: 'hello', text: 'hi' },
      cookie: false,
      headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
    });
    expect(sent.status).toBeGreaterThanOrEqual(400);
    expect((await read(sent, kit.clientSecret)).error.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');

    expect(far.httpRequestCount()).toBe(0);
    expect(kit.smtpServer).toBeDefined();
  });

  // Sibling: a redirect is not a hop (the token request carries the secret).
  it('the token endpoint answers 307 to 127.0.0.2 → 502 TOKEN_ENDPOINT_REJECTED naming it, 0 requests reach it', async () => {
    const { kit, far, h } = await start();
    const id = await createEntry(h, kit.config);
    kit.tokenServer.faults.add({
      match: { path: '/oauth2/v2.0/token' },
      times: 'always',
      action: { type: 'redirect', status: 307, location: far.tokenEndpoint(kit.tenantId) },
    });
    const res = await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' });
    expect(res.status).toBe(502);
    const body = await read(res, kit.clientSecret);
    expect(body.error.code).toBe('TOKEN_ENDPOINT_REJECTED');
    expect(body.error.message).toContain('HTTP 307');
    expect(body.error.message).toContain(new URL(far.url).host);
    expect(far.httpRequestCount()).toBe(0);
  });
});
