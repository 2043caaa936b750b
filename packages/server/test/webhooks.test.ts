import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterEach, expect, it } from 'vitest';
import { reencryptAll } from '../src/rotate.js';
import { storedEnvelopeKeyIds } from '../src/secrets/key-inventory.js';
import { createKeyRing } from '../src/secrets/keyring.js';
import type { CreateServerOptions } from '../src/server.js';
import { openStore } from '../src/store/db.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, PUBLIC_TEST_ADDRESS, startHarness } from './helpers/harness.js';

/** One request the receiver got. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A real HTTP receiver on 127.0.0.1, port 0. Answers each request with the next scripted status
 * (then 200), and keeps every request for assertions.
 */
async function startReceiver() {
  const received: Received[] = [];
  const script: number[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      if (status === HANG) return; // never answers (closed with the receiver)
      res.statusCode = status;
      if (status >= 300 && status < 400) res.setHeader('location', 'http://127.0.0.1:1/elsewhere');
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/mail`,
    received,
    /** The next answers, in order (then 200). */
    answer(...statuses: number[]) {
      script.push(...statuses);
    },
    async waitFor(pred: (r: Received) => boolean, ms = 30_000): Promise<Received> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = received.find(pred);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching webhook request; got ${received.map((r) => typeOf(r)).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A scripted "status" that leaves the request unanswered. */
const HANG = -1;

const typeOf = (r: Received) => (JSON.parse(r.body) as { type: string }).type;
const dataOf = (r: Received) => (JSON.parse(r.body) as { data: Json }).data;

/** Verifies with the reference library's own `verify` (the receiver's side of the spec). */
function verified(secret: string, r: Received): Json {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

const BODY_CANARY = 'body-canary-7f3a1c';

describeDrivers('webhooks per API key', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    await receiver?.close();
    h = undefined;
    env = undefined;
    receiver = undefined;
  });

  async function start(
    overrides: {
      outbox?: CreateServerOptions['outbox'];
      webhooks?: CreateServerOptions['webhooks'];
      keepStore?: boolean;
    } = {},
  ) {
    env = await createTestEnvironment({ limits: false });
    receiver = await startReceiver();
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      outbox: { pollMs: 100, ...overrides.outbox },
      ...(overrides.keepStore ? { keepStore: true } : {}),
      webhooks: {
        allowHttp: true,
        allowedAddresses: ['127.0.0.1'],
        // Host names resolve to a public test address (no DNS in tests); IP literals are used as is.
        resolveHost: async () => [PUBLIC_TEST_ADDRESS],
        pollMs: 100,
        retryDelaysMs: [300, 300, 300],
        timeoutMs: 5000,
        ...overrides.webhooks,
      },
    });
    await h.login();
    const created = await h.api('/api/email-servers', { body: kit.config });
    expect(created.status).toBe(201);
    const made = await json(await h.api('/api/api-keys', { body: { name: 'app' } }));
    const set = await h.api(`/api/api-keys/${made.apiKey.id}/webhook`, {
      method: 'PUT',
      body: { url: receiver.url },
    });
    expect(set.status).toBe(200);
    const answer = await json(set);
    expect(answer.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    return {
      env: kit,
      h,
      r: receiver,
      keyId: made.apiKey.id as string,
      key: made.key as string,
      secret: answer.secret as string,
    };
  }

  const post = (harness: Harness, key: string, body: unknown) =>
    harness.api('/api/send', { body, cookie: false, headers: { authorization: `Bearer ${key}` } });

  async function until(harness: Harness, id: string, done: (m: Json) => boolean, ms = 30_000): Promise<Json> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = await json(await harness.api(`/api/messages/${id}`));
      if (done(found.message)) return found;
      if (Date.now() > deadline) throw new Error(`message ${id} still ${found.message.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function keyView(harness: Harness, id: string): Promise<Json> {
    return (await json(await harness.api('/api/api-keys'))).apiKeys.find((k: Json) => k.id === id);
  }

  it('message.sent: signed per Standard Webhooks, verified by the reference library; outcome fields, no body, no secret', async () => {
    const { h, r, key, keyId, secret } = await start();
    const accepted = await json(
      await post(h, key, { to: 'a@example.com', subject: 'hooked', text: `hello ${BODY_CANARY}` }),
    );
    const got = await r.waitFor((x) => typeOf(x) === 'message.sent');
    const event = verified(secret, got);
    expect(got.headers['webhook-id']).toMatch(/^evt_/);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(event).toMatchObject({
      type: 'message.sent',
      data: {
        id: accepted.id,
        messageId: accepted.messageId,
        status: 'sent',
        code: null,
        accepted: ['a@example.com'],
        rejected: [],
        recipientCount: 1,
        attempts: 1,
      },
    });
    expect(event.data.reply).toMatch(/^250 /);
    expect(Date.parse(event.timestamp)).not.toBeNaN();
    // A signature made with another secret does not verify.
    expect(() => verified(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, got)).toThrow();
    // Never the body, the subject, the API key or the secret in the event.
    for (const canary of [BODY_CANARY, 'hooked', key, secret]) expect(got.body).not.toContain(canary);

    // The key's last delivery, for the WebAdmin; the secret in no API answer.
    let view: Json;
    const deadline = Date.now() + 10_000;
    do {
      view = await keyView(h, keyId);
      if (view.webhook.lastDelivery) break;
      await new Promise((res) => setTimeout(res, 50));
    } while (Date.now() < deadline);
    expect(view.webhook).toMatchObject({
      url: r.url,
      secretSet: true,
      lastDelivery: {
        outcome: 'delivered',
        httpStatus: 200,
        error: null,
        eventId: got.headers['webhook-id'],
      },
    });
    const everything = JSON.stringify([
      await json(await h.api('/api/api-keys')),
      await json(await h.api(`/api/api-keys/${keyId}/webhook/deliveries`)),
      await json(await h.api(`/api/messages/${accepted.id}`)),
      await json(await h.api('/api/audit')),
    ]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice(6));
    expect(everything).not.toContain(BODY_CANARY);
    // Nor in any log line.
    const logs = h.logger.lines.join('\n');
    expect(logs).not.toContain(secret.slice(6));
    expect(logs).not.toContain(BODY_CANARY);
    expect(logs).toContain('webhook delivered');
    // Encrypted at rest (S1): the secret's bytes are not in the database file.
    if (h.store.sqliteFile) {
      await h.server.context.store.db.executeQuery(
        sql`PRAGMA wal_checkpoint(FULL)`.compile(h.server.context.store.db),
      );
      const file = readFileSync(h.store.sqliteFile);
      expect(file.includes(Buffer.from(secret.slice(6)))).toBe(false);
    } else {
      const row = await h.server.context.store.db
        .selectFrom('api_keys')
        .select('webhook_secret')
        .where('id', '=', keyId)
        .executeTakeFirstOrThrow();
      expect(row.webhook_secret).not.toContain(secret.slice(6));
      expect(row.webhook_secret).toMatch(/^v1\./);
    }
  });

  it('message.failed on a 5xx from the SMTP server; an operator retry that ends again sends a second event', async () => {
    const { env, h, r, key, secret } = await start();
    env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    const a = await json(await post(h, key, { to: 'a@example.com', subject: 'refused' }));
    const failed = verified(secret, await r.waitFor((x) => typeOf(x) === 'message.failed'));
    expect(failed.data).toMatchObject({
      id: a.id,
      messageId: a.messageId,
      status: 'failed',
      code: 'SMTP_REJECTED',
    });
    expect(failed.data.hint).toBeTruthy();
    expect(failed.data.reply).toMatch(/^550 /);

    expect((await h.api(`/api/messages/${a.id}/retry`, { method: 'POST' })).status).toBe(200);
    const sent = await r.waitFor((x) => typeOf(x) === 'message.sent');
    expect(verified(secret, sent).data).toMatchObject({ id: a.id, messageId: a.messageId, status: 'sent' });
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('message.cancelled, and message.unknown for a reply lost after the final dot', async () => {
    const { env, h, r, key, secret } = await start({
      outbox: { schedule: { firstDelayMs: 60_000 }, leaseMs: 2000 },
    });
    // Cancelled: a queued message waiting for its retry.
    const fault = env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 'always' });
    const c = await json(await post(h, key, { to: 'a@example.com', subject: 'to cancel' }));
    await until(h, c.id, (m) => m.status === 'queued' && m.attempts === 1);
    expect((await h.api(`/api/messages/${c.id}/cancel`, { method: 'POST' })).status).toBe(200);
    const cancelled = verified(secret, await r.waitFor((x) => typeOf(x) === 'message.cancelled'));
    expect(cancelled.data).toMatchObject({ id: c.id, status: 'cancelled' });

    // Unknown from an attempt: the server stores the message but its reply to "." never comes.
    env.faults.smtp.clear(fault.id);
    env.faults.smtp.add({ stage: 'data-end', dropReply: true, times: 1 });
    const u = await json(await post(h, key, { to: 'a@example.com', subject: 'lost reply' }));
    const unknown = verified(
      secret,
      await r.waitFor((x) => typeOf(x) === 'message.unknown' && dataOf(x).id === u.id),
    );
    expect(unknown.data).toMatchObject({ status: 'unknown', code: 'SMTP_OUTCOME_UNKNOWN' });
  });

  // Unknown by reclaim: a row handed to the mailer by an instance that died. SQLite: its SQL lease
  // expires and the reclaim marks it; PostgreSQL: pg-boss hands its job out again (here: the retry's
  // job, due after 3 s) and the claim finds the row still transmitting. Either way one event.
  it('message.unknown for a delivery whose instance died while transmitting', async () => {
    const { env, h, r, key, secret } = await start({
      outbox: { schedule: { firstDelayMs: 3000 }, leaseMs: 2000 },
    });
    env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 1 });
    const d = await json(await post(h, key, { to: 'a@example.com', subject: 'dead instance' }));
    await until(h, d.id, (m) => m.status === 'queued' && m.attempts === 1);
    await h.server.context.store.db
      .updateTable('outbox_messages')
      .set({
        status: 'sending',
        lease_owner: 'a-dead-instance',
        lease_expires_at: new Date(Date.now() - 1000).toISOString(),
        transmitting: 1,
      })
      .where('id', '=', d.id)
      .execute();
    const reclaimed = verified(
      secret,
      await r.waitFor((x) => typeOf(x) === 'message.unknown' && dataOf(x).id === d.id),
    );
    expect(reclaimed.data).toMatchObject({ status: 'unknown', code: 'OUTBOX_LEASE_EXPIRED' });
    expect(env.messages().filter((m) => m.raw.toString().includes('dead instance'))).toHaveLength(0);
  });

  it('a receiver answering 500 is retried with backoff until it answers 200; the same webhook-id each time', async () => {
    const { h, r, key, keyId, secret } = await start();
    r.answer(500);
    await post(h, key, { to: 'a@example.com', subject: 'retry me' });
    const ok = await r.waitFor((x) => typeOf(x) === 'message.sent' && x.status === 200);
    const attempts = r.received.filter((x) => x.headers['webhook-id'] === ok.headers['webhook-id']);
    expect(attempts.map((x) => x.status)).toEqual([500, 200]);
    for (const x of attempts) verified(secret, x);
    const deadline = Date.now() + 10_000;
    let deliveries: Json;
    do {
      deliveries = (await json(await h.api(`/api/api-keys/${keyId}/webhook/deliveries`))).deliveries;
      if (deliveries[0]?.status === 'delivered') break;
      await new Promise((res) => setTimeout(res, 50));
    } while (Date.now() < deadline);
    expect(deliveries[0]).toMatchObject({
      id: ok.headers['webhook-id'],
      type: 'message.sent',
      status: 'delivered',
      attempts: 2,
      httpStatus: 200,
    });
    expect((await keyView(h, keyId)).webhook.lastDelivery).toMatchObject({
      outcome: 'delivered',
      httpStatus: 200,
    });
  });

  it('retries end after the last delay (failed, with the status); redirects are not followed', async () => {
    const { h, r, key, keyId } = await start({ webhooks: { retryDelaysMs: [200] } });
    r.answer(503, 302);
    await post(h, key, { to: 'a@example.com', subject: 'doomed hook' });
    const deadline = Date.now() + 20_000;
    let deliveries: Json;
    do {
      deliveries = (await json(await h.api(`/api/api-keys/${keyId}/webhook/deliveries`))).deliveries;
      if (deliveries[0]?.status === 'failed') break;
      await new Promise((res) => setTimeout(res, 50));
    } while (Date.now() < deadline);
    expect(deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      httpStatus: 302,
      error: 'WEBHOOK_REDIRECT_NOT_FOLLOWED',
    });
    // Two requests only, and none to the redirect's Location.
    expect(r.received.map((x) => x.status)).toEqual([503, 302]);
    expect((await keyView(h, keyId)).webhook.lastDelivery).toMatchObject({
      outcome: 'failed',
      httpStatus: 302,
      error: 'WEBHOOK_REDIRECT_NOT_FOLLOWED',
    });
  });

  it('a receiver that does not answer within the timeout: WEBHOOK_TIMEOUT, reported on the key', async () => {
    const { h, r, keyId } = await start({ webhooks: { timeoutMs: 500 } });
    r.answer(HANG);
    const test = await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' });
    expect((await json(test)).delivery).toMatchObject({
      status: 'failed',
      error: 'WEBHOOK_TIMEOUT',
      httpStatus: null,
    });
    expect(r.received).toHaveLength(1);
    expect((await keyView(h, keyId)).webhook.lastDelivery).toMatchObject({
      outcome: 'failed',
      error: 'WEBHOOK_TIMEOUT',
    });
  });

  it('test event and secret rotation: the new secret verifies, the old one no longer does; removing the webhook drops queued events', async () => {
    const { h, r, keyId, key, secret } = await start();
    const test = await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' });
    expect(test.status).toBe(200);
    const delivery = (await json(test)).delivery;
    expect(delivery).toMatchObject({
      type: 'webhook.test',
      status: 'delivered',
      httpStatus: 200,
      attempts: 1,
    });
    const first = await r.waitFor((x) => typeOf(x) === 'webhook.test');
    expect(first.headers['webhook-id']).toBe(delivery.id);
    verified(secret, first);

    const rotated = await h.api(`/api/api-keys/${keyId}/webhook/secret`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const next = (await json(rotated)).secret as string;
    expect(next).toMatch(/^whsec_/);
    expect(next).not.toBe(secret);
    // Setting the URL again keeps the secret (and does not show it).
    const again = await json(
      await h.api(`/api/api-keys/${keyId}/webhook`, { method: 'PUT', body: { url: r.url } }),
    );
    expect(again.secret).toBeUndefined();
    await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' });
    const second = r.received.filter((x) => typeOf(x) === 'webhook.test')[1]!;
    verified(next, second);
    expect(() => verified(secret, second)).toThrow();

    // A test event to a receiver that fails is tried once and reported.
    r.answer(500);
    const failedTest = (await json(await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' })))
      .delivery;
    expect(failedTest).toMatchObject({
      status: 'failed',
      httpStatus: 500,
      error: 'WEBHOOK_HTTP_STATUS',
      attempts: 1,
    });

    // Removed: the key shows no webhook, and events of later messages are not posted.
    expect((await h.api(`/api/api-keys/${keyId}/webhook`, { method: 'DELETE' })).status).toBe(204);
    expect((await keyView(h, keyId)).webhook).toBeNull();
    const before = r.received.length;
    const m = await json(await post(h, key, { to: 'a@example.com', subject: 'no hook' }));
    await until(h, m.id, (x) => x.status === 'sent');
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received.length).toBe(before);
    expect((await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' })).status).toBe(409);
  });

  it('the URL guard refuses private, metadata and non-https targets with the field named; the check repeats at delivery', async () => {
    const { h, keyId } = await start();
    const put = (url: string) => h.api(`/api/api-keys/${keyId}/webhook`, { method: 'PUT', body: { url } });
    const cases: [string, string, RegExp][] = [
      ['http://10.0.0.5/hook', 'WEBHOOK_URL_NOT_ALLOWED', /10\.0\.0\.5, a private address/],
      ['http://169.254.169.254/latest/meta-data', 'WEBHOOK_URL_NOT_ALLOWED', /metadata address/],
      ['http://[::ffff:127.0.0.2]/x', 'WEBHOOK_URL_NOT_ALLOWED', /ipv4-mapped address/],
      ['http://127.0.0.2/x', 'WEBHOOK_URL_NOT_ALLOWED', /loopback address/],
      ['https://user:pw@52.96.0.10/x', 'WEBHOOK_URL_INVALID', /user name or password/],
      ['ftp://52.96.0.10/x', 'WEBHOOK_URL_INVALID', /must use https/],
      ['not a url', 'WEBHOOK_URL_INVALID', /not a valid URL/],
    ];
    for (const [url, code, message] of cases) {
      const res = await put(url);
      expect(res.status, url).toBe(400);
      const error = (await json(res)).error;
      expect(error.code, url).toBe(code);
      expect(error.message, url).toMatch(message);
      expect(error.issues[0].path).toBe('url');
      expect(error.hint).toBeTruthy();
    }
    // A host name is resolved (the harness's DNS seam says 52.96.0.10, public): allowed.
    expect((await put('https://hooks.example.com/mail')).status).toBe(200);

    // Set while allowed, refused at delivery: the address is checked again before every post.
    await h.server.context.store.db
      .updateTable('api_keys')
      .set({ webhook_url: 'http://10.0.0.5/hook' })
      .where('id', '=', keyId)
      .execute();
    const test = (await json(await h.api(`/api/api-keys/${keyId}/webhook/test`, { method: 'POST' })))
      .delivery;
    expect(test).toMatchObject({ status: 'failed', error: 'WEBHOOK_URL_NOT_ALLOWED', httpStatus: null });
  });

  it('events are durable: queued while no instance delivers, posted after a restart — with the secret re-encrypted under a new key meanwhile', async () => {
    const {
      h: first,
      r,
      key,
      keyId,
      secret,
    } = await start({ webhooks: { deliver: false }, keepStore: true });
    const a = await json(await post(first, key, { to: 'a@example.com', subject: 'before restart' }));
    await until(first, a.id, (m) => m.status === 'sent');
    const pending = await first.server.context.store.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('outbox_id', '=', a.id)
      .execute();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ status: 'pending', event_type: 'message.sent', attempts: 0 });
    expect(pending[0]!.payload).not.toContain('before restart');
    await first.close();
    h = undefined;

    // S2: rotate-key re-encrypts the webhook secret too, and counts it in the inventory.
    const k1 = first.keyRing.get(first.keyRing.primary.id)!;
    const ring = createKeyRing([{ id: 'k2', key: randomBytes(32) }, k1]);
    const reopened = await openStore(first.store.options);
    try {
      // The entry's client secret and the webhook secret.
      expect(await storedEnvelopeKeyIds(reopened.db)).toEqual(new Map([[k1.id, 2]]));
      expect(await reencryptAll(reopened, ring)).toEqual({ reencrypted: 2, unchanged: 0 });
      expect(await storedEnvelopeKeyIds(reopened.db)).toEqual(new Map([['k2', 2]]));
      const envelope = await reopened.db
        .selectFrom('api_keys')
        .select('webhook_secret')
        .where('id', '=', keyId)
        .executeTakeFirstOrThrow();
      expect(envelope.webhook_secret).toMatch(/^v1\.k2\./);
    } finally {
      await reopened.close();
    }

    const kit = env!;
    h = await startHarness(driver, {
      store: first.store,
      keyRing: ring,
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      webhooks: { allowHttp: true, allowedAddresses: ['127.0.0.1'], pollMs: 100 },
    });
    const got = await r.waitFor((x) => typeOf(x) === 'message.sent');
    expect(got.headers['webhook-id']).toBe(pending[0]!.id);
    expect(verified(secret, got).data).toMatchObject({ id: a.id, status: 'sent' });
  });

  it('an event claimed by an instance that died (its lease expired) is posted again, with the same webhook-id', async () => {
    const { h, r, keyId, secret } = await start();
    const payload = JSON.stringify({
      type: 'webhook.test',
      timestamp: new Date().toISOString(),
      data: { apiKeyId: keyId },
    });
    await h.server.context.store.db
      .insertInto('webhook_deliveries')
      .values({
        id: 'evt_orphaned-1',
        api_key_id: keyId,
        outbox_id: null,
        event_type: 'webhook.test',
        payload,
        created_at: new Date().toISOString(),
        status: 'delivering',
        attempts: 1,
        next_attempt_at: new Date().toISOString(),
        lease_owner: 'a-dead-instance',
        lease_expires_at: new Date(Date.now() - 1000).toISOString(),
        last_http_status: null,
        last_error: null,
        finished_at: null,
      })
      .execute();
    const got = await r.waitFor((x) => x.headers['webhook-id'] === 'evt_orphaned-1');
    expect(got.body).toBe(payload);
    verified(secret, got);
    const deadline = Date.now() + 10_000;
    let row = await h.server.context.webhooks.getDelivery('evt_orphaned-1');
    while (row?.status !== 'delivered' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      row = await h.server.context.webhooks.getDelivery('evt_orphaned-1');
    }
    expect(row).toMatchObject({ status: 'delivered', attempts: 2, lease_owner: null });
  });

  it('without the operator’s allowances, http and loopback targets are refused, naming the setting', async () => {
    const plain = await startHarness(driver);
    try {
      await plain.login();
      const made = await json(await plain.api('/api/api-keys', { body: { name: 'app' } }));
      const put = (url: string) =>
        plain.api(`/api/api-keys/${made.apiKey.id}/webhook`, { method: 'PUT', body: { url } });
      const http = (await json(await put('http://52.96.0.10/hook'))).error;
      expect(http).toMatchObject({ code: 'WEBHOOK_URL_INVALID', message: 'url: must use https' });
      expect(http.hint).toMatch(/WEBHOOK_ALLOW_HTTP=true/);
      const loop = (await json(await put('https://127.0.0.1:8443/hook'))).error;
      expect(loop.code).toBe('WEBHOOK_URL_NOT_ALLOWED');
      expect(loop.hint).toMatch(/WEBHOOK_ALLOW_PRIVATE_TARGETS=true/);
      expect((await put('https://52.96.0.10/hook')).status).toBe(200);
    } finally {
      await plain.close();
    }
  });

  if (driver.name === 'postgres')
    it('two instances on one database: every event delivered exactly once', async () => {
      const { h: first, r, key, secret } = await start();
      const kit = env!;
      const second = await startHarness(driver, {
        store: first.store,
        keepStore: true,
        keyRing: first.keyRing,
        now: () => new Date(kit.clock.now()),
        tokenHostAllowlist: ['127.0.0.1'],
        smtp: { allowedAddresses: ['127.0.0.1'] },
        outbox: { pollMs: 50 },
        webhooks: { allowHttp: true, allowedAddresses: ['127.0.0.1'], pollMs: 50 },
      });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++)
          ids.push((await json(await post(first, key, { to: 'a@example.com', subject: `pair ${i}` }))).id);
        const deadline = Date.now() + 60_000;
        while (r.received.length < 20 && Date.now() < deadline)
          await new Promise((res) => setTimeout(res, 50));
        await new Promise((res) => setTimeout(res, 1000));
        expect(r.received).toHaveLength(20);
        const webhookIds = r.received.map((x) => String(x.headers['webhook-id']));
        expect(new Set(webhookIds).size).toBe(20);
        expect(new Set(r.received.map((x) => verified(secret, x).data.id))).toEqual(new Set(ids));
      } finally {
        await second.close();
      }
    });
});
