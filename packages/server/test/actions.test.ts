import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

// Anything shaped like a JWT (header.payload.): an access token must never leave core.
const JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./;

describeDrivers('entry actions and the send API against the testkit', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = undefined;
    env = undefined;
  });

  /** A server whose operator allows the testkit's loopback endpoints, with an entry for it. */
  async function start(options: { limits?: false; permissionModel?: 'rbac' } = {}) {
    env = await createTestEnvironment({
      ...(options.limits === false ? { limits: false } : {}),
      ...(options.permissionModel ? { permissionModel: options.permissionModel } : {}),
    });
    const kit = env;
    h = await startHarness(driver, {
      // One clock for the server and the fake Microsoft: token expiry and claims agree.
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
    });
    await h.login();
    const body = options.permissionModel
      ? { ...kit.config, auth: { ...kit.config.auth, permissionModel: options.permissionModel } }
      : kit.config;
    const created = await h.api('/api/email-servers', { body });
    expect(created.status).toBe(201);
    const id = (await json(created)).emailServer.id as string;
    return { env: kit, h, id };
  }

  async function apiKey(harness: Harness, emailServerIds?: string[]): Promise<{ id: string; key: string }> {
    const body = await json(
      await harness.api('/api/api-keys', {
        body: { name: 'app', ...(emailServerIds ? { emailServerIds } : {}) },
      }),
    );
    return { id: body.apiKey.id, key: body.key };
  }

  const send = (harness: Harness, key: string, body: unknown) =>
    harness.api('/api/send', {
      body,
      cookie: false,
      // Today's synchronous answer: wait for the outbox's outcome.
      headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
    });

  it('test-token: a fresh token, its claims checked by core, never the token itself', async () => {
    const { h, id } = await start();
    const res = await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as Json;
    expect(body.ok).toBe(true);
    expect(body.claims.roles).toContain('SMTP.SendAsApp');
    expect(body.claims.aud).toBe('https://outlook.office365.com');
    expect(body.findings.length).toBeGreaterThan(3);
    expect(body.findings.every((f: Json) => f.ok)).toBe(true);
    expect(text).not.toMatch(JWT);
    const entry = await json(await h.api(`/api/email-servers/${id}`));
    expect(entry.emailServer.lastTest).toMatchObject({ ok: true });
  });

  // Regression: a token without roles was called a failure ("admin consent is missing") in tenants
  // that authorize the app with RBAC for Applications, where no roles is right (reference §7).
  it("test-token: an entry with permissionModel 'rbac' passes a token without roles", async () => {
    const { h, id } = await start({ permissionModel: 'rbac' });
    const body = await json(await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' }));
    expect(body.claims.roles).toBeUndefined();
    expect(body.ok).toBe(true);
    expect(body.findings.find((f: Json) => f.check === 'roles')).toMatchObject({ ok: true });
    const entry = await json(await h.api(`/api/email-servers/${id}`));
    expect(entry.emailServer.config.auth.permissionModel).toBe('rbac');
    expect(entry.emailServer.lastTest).toMatchObject({ ok: true });
  });

  it('test-token: a token failure is a 502 with core’s code and hint', async () => {
    const { env, h, id } = await start();
    env.directory.removeSecrets(env.clientId);
    const res = await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' });
    expect(res.status).toBe(502);
    const body = await json(res);
    expect(body.error.code).toMatch(/^TOKEN_/);
    expect(typeof body.error.hint).toBe('string');
    expect((await json(await h.api(`/api/email-servers/${id}`))).emailServer.lastTest.ok).toBe(false);
  });

  it('diagnose: all green; without the mailbox permission a step fails with the Add-MailboxPermission fix', async () => {
    const { env, h, id } = await start();
    const green = await json(
      await h.api(`/api/email-servers/${id}/diagnose`, { body: { sendTestTo: 'someone@example.com' } }),
    );
    expect(green.ok, JSON.stringify(green.steps)).toBe(true);
    expect(green.steps.map((s: Json) => s.id)).toEqual([
      'config',
      'dns',
      'tcp',
      'tls',
      'ehlo',
      'token',
      'claims',
      'auth',
      'mail',
      'message',
    ]);
    expect(green.steps.every((s: Json) => s.status === 'ok')).toBe(true);
    // The field is `sendTestTo`; the old alias `to` is an unknown field now (S15).
    const alias = await h.api(`/api/email-servers/${id}/diagnose`, { body: { to: 'someone@example.com' } });
    expect(alias.status).toBe(400);
    expect((await json(alias)).error.issues).toContainEqual(expect.objectContaining({ path: 'to' }));

    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    const red = await json(
      await h.api(`/api/email-servers/${id}/diagnose`, { body: { sendTestTo: 'someone@example.com' } }),
    );
    expect(red.ok).toBe(false);
    const failed = red.steps.find((s: Json) => s.status === 'fail');
    expect(failed, JSON.stringify(red.steps)).toBeDefined();
    const commands = (failed.fix?.commands ?? []).join('\n');
    expect(commands).toContain('Add-MailboxPermission');
    expect(commands).toContain(env.mailbox);
    expect(JSON.stringify(red)).not.toMatch(JWT);
    const entry = await json(await h.api(`/api/email-servers/${id}`));
    expect(entry.emailServer.lastTest.ok).toBe(false);
  });

  it('send-test: delivered outside the outbox, recorded as the last test and audited without addresses', async () => {
    const { env, h, id } = await start();
    const res = await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'tester@example.com' } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ ok: true, covered: expect.arrayContaining(['token', 'auth', 'message']) });
    expect(body.sent.accepted).toEqual(['tester@example.com']);
    const message = await env.waitForMessage((m) => m.parsed.subject === 'smtp-oauth test message');
    expect(message.envelope.rcptTo).toContain('tester@example.com');
    // A new connection with a new token, not a message of the outbox: the sent log (its view) has no row.
    expect((await json(await h.api('/api/sent-log'))).entries).toEqual([]);
    const entry = (await json(await h.api(`/api/email-servers/${id}`))).emailServer;
    expect(entry.lastTest).toMatchObject({ ok: true, check: 'send-test' });
    expect(JSON.stringify(entry)).not.toContain('tester@example.com');
    const audit = await json(await h.api('/api/audit'));
    expect(JSON.stringify(audit)).not.toContain('tester@example.com');
    const bad = await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'x\r\nBcc: a@b.c' } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.issues[0].path).toBe('to');
  });

  // Regression: send-test reused the entry's pooled, already authenticated connection and reported
  // "Sent" after admin consent was revoked, while test-token and diagnose failed.
  it('send-test after revoked admin consent: fails with the doctor’s failing step, recorded and audited as failed', async () => {
    const { env, h, id } = await start();
    const warm = await json(
      await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'warm@example.com' } }),
    );
    expect(warm.ok).toBe(true);
    env.directory.revokeAdminConsent(env.clientId);
    const res = await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'tester@example.com' } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.ok).toBe(false);
    const diagnosis = await json(await h.api(`/api/email-servers/${id}/diagnose`, { body: {} }));
    const failed = diagnosis.steps.find((s: Json) => s.status === 'fail');
    expect(body.failedStep).toMatchObject({ id: failed.id, cause: failed.causes[0] });
    expect(JSON.stringify(body)).not.toMatch(JWT);
    const entry = (await json(await h.api(`/api/email-servers/${id}`))).emailServer;
    // The diagnosis above ran last; it failed too, like the test send.
    expect(entry.lastTest).toMatchObject({ ok: false });
    const audit = await json(await h.api('/api/audit'));
    const sendTests = audit.entries.filter((e: Json) => e.action === 'email-server.send-test');
    expect(sendTests.map((e: Json) => e.outcome)).toEqual(expect.arrayContaining(['ok', 'failed']));
  });

  // Regression: "Last test" turned ✓ after a token test although the test send had just failed.
  it('last test: a later success of another check keeps the earlier failure visible until that check passes', async () => {
    const { env, h, id } = await start();
    const lastTest = async () => (await json(await h.api(`/api/email-servers/${id}`))).emailServer.lastTest;
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.objectId);
    const failed = await json(
      await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'tester@example.com' } }),
    );
    expect(failed.ok).toBe(false);
    expect(await lastTest()).toMatchObject({ ok: false, check: 'send-test' });
    expect((await h.api(`/api/email-servers/${id}/test-token`, { method: 'POST' })).status).toBe(200);
    const after = await lastTest();
    expect(after).toMatchObject({ ok: true, check: 'token' });
    expect(after.earlierFailure).toMatchObject({
      check: 'send-test',
      message: expect.stringMatching(/^send-test: /),
    });
    env.directory.addMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    await h.api(`/api/email-servers/${id}/send-test`, { body: { to: 'tester@example.com' } });
    const cleared = await lastTest();
    expect(cleared).toMatchObject({ ok: true, check: 'send-test' });
    expect(cleared.earlierFailure).toBeUndefined();
  });

  it('POST /api/send: valid key, revoked key (401), CRLF in subject (400, nothing sent), entry by name', async () => {
    const { env, h, id } = await start();
    const { id: keyId, key } = await apiKey(h);
    const ok = await send(h, key, { to: 'a@example.com', subject: 'From the app', text: 'hello' });
    expect(ok.status).toBe(200);
    const result = await json(ok);
    expect(result).toMatchObject({ accepted: ['a@example.com'], rejected: [] });
    expect(result.messageId).toMatch(/^<.+>$/);
    expect(result.response).toMatch(/^250 /);
    await env.waitForMessage((m) => m.parsed.subject === 'From the app');

    const byName = await send(h, key, { server: env.config.name, to: 'b@example.com', subject: 'By name' });
    expect(byName.status).toBe(200);
    const unknown = await send(h, key, { server: 'nope', to: 'b@example.com' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.issues[0].path).toBe('server');

    const before = env.messages().length;
    const injected = await send(h, key, { to: 'a@example.com', subject: 'x\r\nBcc: victim@example.com' });
    expect(injected.status).toBe(400);
    const err = (await json(injected)).error;
    expect(err.code).toBe('MESSAGE_HEADER_INJECTION');
    expect(err.issues.map((i: Json) => i.path)).toEqual(['subject']);
    const extra = await send(h, key, { to: 'a@example.com', subjet: 'typo' });
    expect(extra.status).toBe(400);
    expect((await json(extra)).error.issues[0].path).toBe('subjet');
    expect(env.messages().length).toBe(before);

    expect((await h.api(`/api/api-keys/${keyId}`, { method: 'DELETE' })).status).toBe(204);
    const revoked = await send(h, key, { to: 'a@example.com', subject: 'After revoke' });
    expect(revoked.status).toBe(401);
    expect((await json(revoked)).error.code).toBe('INVALID_API_KEY');
    expect(env.messages().length).toBe(before);

    const log = (await json(await h.api(`/api/sent-log?serverId=${id}`))).entries as Json[];
    // Refused messages were never accepted, so the outbox (and its sent-log view) holds only the two sent.
    expect(log.map((e) => e.status)).toEqual(['sent', 'sent']);
    expect(log[0]).toMatchObject({ apiKeyId: keyId });
  });

  it('upstream failures: 502 with core’s code; an update takes effect at once (new mailer)', async () => {
    const { env, h, id } = await start();
    const { key } = await apiKey(h);
    expect((await send(h, key, { to: 'a@example.com', subject: 'one' })).status).toBe(200);
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    const refused = await send(h, key, { to: 'a@example.com', subject: 'two' });
    expect(refused.status).toBe(502);
    const error = (await json(refused)).error;
    expect(error.code).toBe('SMTP_MAILBOX_LOGON_FAILED');
    expect(error.hint).toBeTruthy();
    const log = (await json(await h.api('/api/sent-log'))).entries as Json[];
    expect(log[0]).toMatchObject({ status: 'failed', errorCode: error.code });
    expect(log[0].serverReply).toMatch(/^\d{3} /);

    // Point the entry elsewhere (a wrong secret): the cached mailer and token must not survive.
    env.directory.addMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    const { auth, ...rest } = env.config;
    const wrong = { ...rest, auth: { ...auth, credential: { kind: 'secret', secret: 'wrong~secret' } } };
    expect((await h.api(`/api/email-servers/${id}`, { method: 'PUT', body: wrong })).status).toBe(200);
    const afterUpdate = await send(h, key, { to: 'a@example.com', subject: 'three' });
    expect(afterUpdate.status).toBe(502);
    expect((await json(afterUpdate)).error.code).toBe('TOKEN_INVALID_CLIENT_SECRET');
  });

  it('S10: 100 concurrent /api/send → exactly 1 token request, one pooled mailer', async () => {
    const { env, h } = await start({ limits: false });
    const { key } = await apiKey(h);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => send(h, key, { to: `r${i}@example.com`, subject: `burst ${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(env.tokenRequests()).toHaveLength(1);
    expect(env.messages()).toHaveLength(100);
    expect(h.server.context.runtimes.size).toBe(1);
  });

  it('S4: a full send at the most verbose level — no sink holds the secret, the token or the body', async () => {
    env = await createTestEnvironment();
    const kit = env;
    const SECRET = 'Canary8Q~secret-4f1e2d3c4b5a69788796a5b4';
    const BODY = 'CANARY-BODY-7c6b5a4f3e2d1c0b';
    const SUBJECT_SAFE = 'canary run';
    kit.directory.addSecret(kit.clientId, { value: SECRET });
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
    });
    await h.login();
    const responses: string[] = [];
    const call = async (path: string, init?: Parameters<Harness['api']>[1]) => {
      const res = await h!.api(path, init);
      const text = await res.text();
      responses.push(text);
      return { status: res.status, text };
    };
    const entry = {
      ...kit.config,
      auth: { ...kit.config.auth, credential: { kind: 'secret', secret: SECRET } },
    };
    const created = await call('/api/email-servers', { body: entry });
    expect(created.status).toBe(201);
    const id = JSON.parse(created.text).emailServer.id;
    const { key } = await apiKey(h);
    const sent = await call('/api/send', {
      body: { to: 'a@example.com', subject: SUBJECT_SAFE, text: BODY, html: `<p>${BODY}</p>` },
      cookie: false,
      headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
    });
    expect(sent.status, sent.text).toBe(200);
    const delivered = await kit.waitForMessage((m) => m.parsed.subject === SUBJECT_SAFE);
    expect(delivered.parsed.text).toContain(BODY); // the canary really went through
    // A failing send too: errors must not quote the body either.
    kit.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    const failed = await call('/api/send', {
      body: { to: 'a@example.com', subject: SUBJECT_SAFE, text: BODY },
      cookie: false,
      headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
    });
    expect(failed.status).toBe(502);
    await call(`/api/email-servers/${id}/test-token`, { method: 'POST' });
    await call(`/api/email-servers/${id}/diagnose`, { body: { sendTestTo: 'a@example.com' } });
    await call('/api/audit?limit=500');
    await call('/api/sent-log?limit=500');
    await call(`/api/email-servers/${id}`);

    const sinks = {
      logs: h.logger.lines.join('\n'),
      responses: responses.join('\n'),
    };
    expect(h.logger.lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
    for (const [name, text] of Object.entries(sinks)) {
      expect(text, name).not.toContain(SECRET);
      expect(text, name).not.toContain(BODY);
      expect(text, name).not.toMatch(JWT);
    }
  });

  it('S6 at connect time: the mailer connects to the address the guard checked, TLS checks the name', async () => {
    env = await createTestEnvironment();
    const kit = env;
    let answer = ['127.0.0.1'];
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1', '127.0.0.2'], resolveHost: async () => answer },
      // Re-check on every use, so the test need not wait for the TTL.
      runtime: { addressTtlMs: -1 },
      // A refused connection is transient: give up at the first failure instead of retrying later.
      outbox: { schedule: { maxLifetimeMs: 0 } },
    });
    await h.login();
    // By name: the certificate is issued for "localhost", so TLS verification passes only if the
    // servername is the host name while the connection goes to the checked address.
    const created = await h.api('/api/email-servers', { body: { ...kit.config, host: 'localhost' } });
    expect(created.status).toBe(201);
    const { key } = await apiKey(h);
    expect((await send(h, key, { to: 'a@example.com', subject: 'pinned' })).status).toBe(200);

    // The name now "resolves" to 127.0.0.2 (allowed, but nothing listens there). The system resolver
    // would still say 127.0.0.1: a refused connection proves the checked address is the one used.
    answer = ['127.0.0.2'];
    const moved = await send(h, key, { to: 'a@example.com', subject: 'moved' });
    expect(moved.status).toBe(502);
    expect((await json(moved)).error.code).toMatch(/^NETWORK_/);

    // Rebinding to a private address is refused at use time, not only when the entry was saved.
    answer = ['10.0.0.5'];
    const rebound = await send(h, key, { to: 'a@example.com', subject: 'rebound' });
    expect(rebound.status).toBe(409);
    expect((await json(rebound)).error.code).toBe('SMTP_HOST_NOT_ALLOWED');
    expect(kit.messages().map((m) => m.envelope.rcptTo)).toHaveLength(1);
  });

  it('deleting the default entry promotes the oldest remaining one: the send API keeps working', async () => {
    const { env, h, id: first } = await start();
    const create = async (name: string) => {
      env.clock.advance(1_000); // distinct creation times: "oldest" is well defined
      const res = await h.api('/api/email-servers', { body: { ...env.config, name } });
      return (await json(res)).emailServer.id as string;
    };
    const second = await create('second');
    const third = await create('third');
    // Bound to every entry (issue 13 §4): the promotion, not the binding, is under test here.
    const { key } = await apiKey(h, [first, second, third]);
    expect((await h.api(`/api/email-servers/${first}`, { method: 'DELETE' })).status).toBe(204);

    const entries = (await json(await h.api('/api/email-servers'))).emailServers as Json[];
    expect(entries.filter((e) => e.isDefault).map((e) => e.id)).toEqual([second]);
    expect(entries.find((e) => e.id === third)?.isDefault).toBe(false);
    const sent = await send(h, key, { to: 'someone@example.com', subject: 'after delete', text: 'hi' });
    expect(sent.status, await sent.clone().text()).toBe(200);
    await env.waitForMessage((m) => m.parsed.subject === 'after delete');

    // Audited with the deletion: who, which entry became the default, the field.
    const audit = (await json(await h.api('/api/audit'))).entries as Json[];
    const promoted = audit.find((a) => a.action === 'email-server.set-default');
    expect(promoted).toMatchObject({ target: second, fields: ['isDefault'], outcome: 'ok' });
    expect(promoted.actor).toBe(audit.find((a) => a.action === 'email-server.delete')?.actor);

    // Deleting an entry that is not the default changes no default and writes no such record.
    expect((await h.api(`/api/email-servers/${third}`, { method: 'DELETE' })).status).toBe(204);
    const after = (await json(await h.api('/api/audit'))).entries as Json[];
    expect(after.filter((a) => a.action === 'email-server.set-default')).toHaveLength(1);
    // The last entry deleted: no default is left, and the send API says so.
    expect((await h.api(`/api/email-servers/${second}`, { method: 'DELETE' })).status).toBe(204);
    const none = await send(h, key, { to: 'someone@example.com', subject: 'x', text: 'y' });
    expect(none.status).toBe(409);
  });
});
