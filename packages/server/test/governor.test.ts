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

  async function run(instances: number, messages: number) {
    env = await createTestEnvironment();
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
    await admin('/api/email-servers', {
      ...kit.config,
      limits: { maxConnections: 3, messagesPerMinute: 30 },
    });
    const key = (await admin('/api/api-keys', { name: 'governed' })).key as string;

    // Spread over the instances, all at once.
    const answers = await Promise.all(
      Array.from({ length: messages }, (_, i) =>
        fetch(`${urls[i % instances]}/api/send`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: `r${i}@example.com`, subject: `governed ${i}` }),
        }).then((r) => r.status),
      ),
    );
    expect(answers).toEqual(Array(messages).fill(202));

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
      `[governor ${driver.name} ×${instances}] delivered=${received.length}/${messages} busiest-minute=${busiest} auth-432=${refused432} throttled-ms=${kit.messages().reduce((n, m) => n + m.throttledMs, 0)}`,
    );
    expect(refused432).toBe(0);
    expect(busiest).toBeLessThanOrEqual(30);
    expect(ids.size).toBe(messages);
    // The testkit never had to hold a reply for the rate limit: the governor paced the sends.
    expect(kit.messages().every((m) => m.throttledMs === 0)).toBe(true);
  }

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
  const take = async () => governor.admit(mailbox, 1);
  const held = [await take(), await take(), await take()];
  expect(held.every((a) => a.admitted)).toBe(true);
  expect(await take()).toMatchObject({ admitted: false, reason: 'connections' });
  for (const a of held) if (a.admitted) await a.release();

  governor.throttled(mailbox);
  expect(await take()).toMatchObject({ admitted: false, reason: 'backoff', retryAt: t + 30_000 });
  t += 30_000;
  const after = [await take(), await take()];
  expect(after.every((a) => a.admitted)).toBe(true);
  // Two connections now, not three.
  expect(await take()).toMatchObject({ admitted: false, reason: 'connections' });
  for (const a of after) if (a.admitted) await a.release();
  // The share comes back after five minutes.
  t += 300_000;
  const back = [await take(), await take(), await take()];
  expect(back.every((a) => a.admitted)).toBe(true);
  expect(governor.leases()[mailbox.key]).toBe(3);
});
