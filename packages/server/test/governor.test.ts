import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { createMemoryGovernor } from '../src/governor/memory.js';
import { EXCHANGE_MAILBOX_LIMITS } from '../src/governor/types.js';
import { createServer, type SmtpOAuthServer } from '../src/server.js';
import { describeDrivers, type TestStore } from './helpers/drivers.js';
import { ADMIN, createCapturingLogger, type Json, testKeyRing } from './helpers/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MINUTE = 60_000;

/**
 * The governor's proof: one mailbox, the testkit's Exchange limits on (3 connections, 30 messages
 * per minute), several server instances on one database. The instances and the testkit share one
 * clock; the minute is passed by moving it, so the test does not wait a real minute.
 */
describeDrivers('governor: one mailbox, Exchange limits, across instances', (driver) => {
  let env: TestEnvironment | undefined;
  let store: TestStore | undefined;
  const servers: { server: SmtpOAuthServer; close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      await s.close();
      await s.server.close();
    }
    await env?.close();
    await store?.cleanup();
    env = undefined;
    store = undefined;
  });

  /** `instances` servers on one fresh store, an entry for the testkit's mailbox, and an API key. */
  async function start(
    instances: number,
    limits: { maxConnections: number; messagesPerMinute: number },
    kitOptions: Parameters<typeof createTestEnvironment>[0] = {},
  ) {
    env = await createTestEnvironment(kitOptions);
    const kit = env;
    store = await driver.freshStore();
    const keyRing = testKeyRing();
    const urls: string[] = [];
    for (let i = 0; i < instances; i++) {
      const server = await createServer({
        store: store.options,
        keyRing,
        now: () => new Date(kit.clock.now()),
        logger: createCapturingLogger(),
        admin: ADMIN,
        passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
        adminUiDir: false,
        tokenHostAllowlist: ['127.0.0.1'],
        smtp: { allowedAddresses: ['127.0.0.1'] },
        outbox: { pollMs: 100 },
      });
      const listening = await server.listen(0);
      servers.push({ server, close: listening.close });
      urls.push(listening.url);
    }
    const first = urls[0]!;
    const login = await fetch(`${first}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: first },
      body: JSON.stringify(ADMIN),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const admin = async (path: string, body: unknown) =>
      (await fetch(`${first}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: first, cookie },
        body: JSON.stringify(body),
      }).then((r) => r.json())) as Json;
    // The testkit's host is not Microsoft's: the entry states Exchange's limits itself.
    await admin('/api/email-servers', { ...kit.config, limits });
    const key = (await admin('/api/api-keys', { name: 'governed' })).key as string;
    /** Submits `messages` messages spread over the instances, all at once. */
    const submit = async (messages: number, tag = 'governed') => {
      const answers = await Promise.all(
        Array.from({ length: messages }, (_, i) =>
          fetch(`${urls[i % instances]}/api/send`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: `r${i}@example.com`, subject: `${tag} ${i}` }),
          }).then((r) => r.status),
        ),
      );
      expect(answers).toEqual(Array(messages).fill(202));
    };
    /** This instance's connection leases of the mailbox, as /metrics shows them. */
    const leases = async (i = 0) => {
      const text = await fetch(`${urls[i]}/metrics`, { headers: { cookie } }).then((r) => r.text());
      const line = text.split('\n').find((l) => l.startsWith('smtp_oauth_governor_connection_leases{'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    return { kit, submit, leases };
  }

  async function run(instances: number, messages: number) {
    const { kit, submit } = await start(instances, { maxConnections: 3, messagesPerMinute: 30 });
    await submit(messages);

    // The first minute: exactly 30 go out, then nothing more until the minute has passed.
    const deadline = Date.now() + 60_000;
    while (kit.messages().length < 30 && Date.now() < deadline) await sleep(100);
    expect(kit.messages()).toHaveLength(30);
    await sleep(1500);
    expect(kit.messages()).toHaveLength(30);
    for (let minute = 1; kit.messages().length < messages; minute++) {
      kit.clock.advance(MINUTE + 5_000);
      const expected = Math.min(messages, 30 * (minute + 1));
      const until = Date.now() + 60_000;
      while (kit.messages().length < expected && Date.now() < until) await sleep(100);
      expect(kit.messages()).toHaveLength(expected);
    }

    const received = kit.messages().map((m) => m.receivedAt.getTime());
    const busiest = Math.max(...received.map((t) => received.filter((u) => u > t - MINUTE && u <= t).length));
    const refused432 = kit.authAttempts().filter((a) => a.reply.startsWith('432')).length;
    const ids = new Set(kit.messages().map((m) => m.messageId));
    console.log(
      `[governor ${driver.name} ×${instances}] delivered=${received.length}/${messages} busiest-minute=${busiest} auths=${kit.authAttempts().filter((a) => a.ok).length} auth-432=${refused432} throttled-ms=${kit.messages().reduce((n, m) => n + m.throttledMs, 0)}`,
    );
    expect(refused432).toBe(0);
    expect(busiest).toBeLessThanOrEqual(30);
    expect(ids.size).toBe(messages);
    // The testkit never had to hold a reply for the rate limit: the governor paced the sends.
    expect(kit.messages().every((m) => m.throttledMs === 0)).toBe(true);
  }

  it('a connection lease is an open SMTP connection, reused: N messages → at most 3 AUTHs', async () => {
    // The testkit's connection limit on (3, then 432), its rate limit off: only connections count here.
    const { kit, submit, leases } = await start(
      1,
      { maxConnections: 3, messagesPerMinute: 100_000 },
      { limits: { messagesPerMinute: false } },
    );
    const messages = 60;
    await submit(messages, 'reused');
    const deadline = Date.now() + 60_000;
    while (kit.messages().length < messages && Date.now() < deadline) await sleep(50);
    expect(kit.messages()).toHaveLength(messages);
    const auths = kit.authAttempts();
    console.log(
      `[governor ${driver.name}] ${messages} messages → ${auths.filter((a) => a.ok).length} AUTHs (${auths.filter((a) => a.reply.startsWith('432')).length} × 432)`,
    );
    // Regression: every governed message opened its own connection (60 AUTHs for 60 messages).
    expect(auths.filter((a) => a.reply.startsWith('432'))).toEqual([]);
    expect(auths.filter((a) => a.ok).length).toBeGreaterThanOrEqual(1);
    expect(auths.filter((a) => a.ok).length).toBeLessThanOrEqual(3);

    // Idle connections close and give their lease back (default 1.5 s); the next message opens anew.
    const until = Date.now() + 30_000;
    while ((await leases()) > 0 && Date.now() < until) await sleep(100);
    expect(await leases()).toBe(0);
    const before = kit.authAttempts().length;
    await submit(1, 'after idle');
    while (kit.messages().length < messages + 1 && Date.now() < until + 30_000) await sleep(50);
    expect(kit.messages()).toHaveLength(messages + 1);
    expect(
      kit
        .authAttempts()
        .slice(before)
        .filter((a) => a.ok),
    ).toHaveLength(1);
  }, 120_000);

  if (driver.name === 'postgres') {
    it(
      'two instances on one PostgreSQL: 0 × 432, ≤ 30 per minute, every message delivered',
      () => run(2, 45),
      180_000,
    );
    it(
      'three instances on one PostgreSQL: 0 × 432, ≤ 30 per minute, every message delivered',
      () => run(3, 70),
      240_000,
    );
  } else {
    it(
      'one instance (SQLite, in-process governor): 0 × 432, ≤ 30 per minute, every message delivered',
      () => run(1, 45),
      180_000,
    );
  }
});

it('a 432 that still arrives: the mailbox backs off, then gets one connection fewer for a while', async () => {
  let t = 1_000_000;
  const governor = createMemoryGovernor({ now: () => t, lingerMs: 0 });
  const mailbox = { key: 'smtp.office365.com|a@contoso.com', limits: EXCHANGE_MAILBOX_LIMITS };
  const take = async () => governor.lease(mailbox);
  const held = [await take(), await take(), await take()];
  expect(held.every((a) => a.admitted)).toBe(true);
  expect(await take()).toMatchObject({ admitted: false, reason: 'connections' });
  for (const a of held) if (a.admitted) await a.lease.release();

  governor.throttled(mailbox);
  expect(await take()).toMatchObject({ admitted: false, reason: 'backoff', retryAt: t + 30_000 });
  expect(await governor.admit(mailbox, 1)).toMatchObject({ admitted: false, reason: 'backoff' });
  expect(governor.share(mailbox)).toBe(2);
  t += 30_000;
  const after = [await take(), await take()];
  expect(after.every((a) => a.admitted)).toBe(true);
  // Two connections now, not three.
  expect(await take()).toMatchObject({ admitted: false, reason: 'connections' });
  for (const a of after) if (a.admitted) await a.lease.release();
  // The share comes back after five minutes.
  t += 300_000;
  expect(governor.share(mailbox)).toBe(3);
  const back = [await take(), await take(), await take()];
  expect(back.every((a) => a.admitted)).toBe(true);
  expect(governor.leases()[mailbox.key]).toBe(3);
});

it('a message takes a place in the windows, apart from the connection: 30 per minute, then the oldest leaves', async () => {
  let t = 1_000_000;
  const governor = createMemoryGovernor({ now: () => t, lingerMs: 0 });
  const mailbox = { key: 'smtp.office365.com|a@contoso.com', limits: EXCHANGE_MAILBOX_LIMITS };
  for (let i = 0; i < 30; i++) {
    expect(await governor.admit(mailbox, 1)).toEqual({ admitted: true });
    t += 100;
  }
  expect(await governor.admit(mailbox, 1)).toEqual({
    admitted: false,
    reason: 'rate',
    retryAt: 1_000_000 + MINUTE,
  });
  // No connection lease was taken by the messages.
  expect(governor.leases()[mailbox.key]).toBe(0);
  t = 1_000_000 + MINUTE + 1;
  expect(await governor.admit(mailbox, 1)).toEqual({ admitted: true });
});
