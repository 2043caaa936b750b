import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `GET /api/outbox/summary` (the WebAdmin's Outbox page) against the real server and the testkit,
 * on SQLite and PostgreSQL: counts by state, the oldest queued age, and per mailbox the entries,
 * backlog and the governor's counts against the limits — on PostgreSQL read from the shared tables,
 * so another instance that sent nothing sees the same numbers.
 */
describeDrivers('outbox summary', (driver) => {
  const open: Harness[] = [];
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    for (const h of open.splice(0).reverse()) await h.close();
    await env?.close();
    env = undefined;
  });

  async function start() {
    // The testkit enforces no limits itself; the entry states Exchange's (its host is not Microsoft's).
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    const h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      // A transient failure waits ten minutes: the message stays queued for the test.
      outbox: { pollMs: 100, schedule: { firstDelayMs: 600_000, jitter: 0 } },
    });
    open.push(h);
    await h.login();
    const governed = { ...kit.config, limits: { maxConnections: 3, messagesPerMinute: 30 } };
    const a = await h.api('/api/email-servers', { body: { ...governed, name: 'Billing' } });
    expect(a.status).toBe(201);
    // A second entry for the same mailbox (host and user in other case): one budget, one row.
    const b = await h.api('/api/email-servers', {
      body: { ...governed, name: 'Billing copy', user: kit.config.user.toUpperCase() },
    });
    expect(b.status).toBe(201);
    // Another mailbox on a host that is not Microsoft's, without limits: not governed.
    const c = await h.api('/api/email-servers', {
      body: { ...kit.config, name: 'Plain', user: `other@${kit.config.user.split('@')[1]}` },
    });
    expect(c.status).toBe(201);
    const ids = {
      a: (await json(a)).emailServer.id as string,
      b: (await json(b)).emailServer.id as string,
      c: (await json(c)).emailServer.id as string,
    };
    const key = (
      await json(
        await h.api('/api/api-keys', { body: { name: 'app', emailServerIds: [ids.a, ids.b, ids.c] } }),
      )
    ).key as string;
    return { kit, h, ids, key };
  }

  const send = async (h: Harness, key: string, body: Json) => {
    const res = await h.api('/api/send', {
      body,
      cookie: false,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(202);
    return (await json(res)).id as string;
  };

  async function until(h: Harness, id: string, done: (m: Json) => boolean): Promise<Json> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = await json(await h.api(`/api/messages/${id}`));
      if (done(found.message)) return found.message;
      if (Date.now() > deadline) throw new Error(`message ${id} still ${found.message.status}`);
      await sleep(50);
    }
  }

  const summary = async (h: Harness): Promise<Json> => {
    const res = await h.api('/api/outbox/summary');
    expect(res.status).toBe(200);
    return json(res);
  };

  it('counts by state, oldest queued age, per mailbox its entries, backlog and usage against the limits', async () => {
    const { kit, h, ids, key } = await start();
    const empty = await summary(h);
    expect(empty.counts).toEqual({ queued: 0, sending: 0, sent: 0, failed: 0, unknown: 0, cancelled: 0 });
    expect(empty.oldestQueuedAgeSeconds).toBeNull();
    expect(empty.governor).toBe(driver.name === 'postgres' ? 'shared' : 'process');

    for (let i = 0; i < 3; i++) {
      const id = await send(h, key, {
        server: 'Billing',
        to: `r${i}@example.com`,
        subject: `secret subject ${i}`,
        text: 'body text',
      });
      await until(h, id, (m) => m.status === 'sent');
    }
    // Two recipients through the second entry of the same mailbox.
    const two = await send(h, key, {
      server: 'Billing copy',
      to: ['x@example.com', 'y@example.com'],
      subject: 's',
    });
    await until(h, two, (m) => m.status === 'sent');
    kit.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    const refused = await send(h, key, { server: 'Billing', to: 'z@example.com', subject: 'refused' });
    await until(h, refused, (m) => m.status === 'failed');
    kit.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 1 });
    const later = await send(h, key, { server: 'Billing', to: 'w@example.com', subject: 'later' });
    await until(h, later, (m) => m.status === 'queued' && m.attempts === 1);
    kit.clock.advance(5_000);

    const s = await summary(h);
    expect(s.counts).toEqual({ queued: 1, sending: 0, sent: 4, failed: 1, unknown: 0, cancelled: 0 });
    expect(s.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(5);
    expect(Date.parse(s.oldestQueuedAt)).toBeLessThan(Date.parse(s.at));
    expect(s.withoutEntry).toEqual({ queued: 0, sending: 0 });
    const billing = s.mailboxes.find((m: Json) => m.entries.some((e: Json) => e.id === ids.a));
    expect(billing).toMatchObject({
      key: `${kit.config.host}|${kit.config.user.toLowerCase()}`,
      host: kit.config.host,
      user: kit.config.user.toLowerCase(),
      backlog: { queued: 1, sending: 0 },
      // Off for a non-Microsoft host unless set: the entry set connections and rate only.
      limits: { maxConnections: 3, messagesPerMinute: 30, recipientsPerDay: null },
    });
    expect(billing.entries.map((e: Json) => e.id).sort()).toEqual([ids.a, ids.b].sort());
    expect(billing.entries.map((e: Json) => e.name).sort()).toEqual(['Billing', 'Billing copy']);
    // Every admitted attempt counts: 4 sent + 1 refused + 1 transient; recipients 3 + 2 + 1 + 1.
    expect(billing.usage).toMatchObject({ messagesLastMinute: 6, recipientsLastDay: 7, backoffUntil: null });
    await expect
      .poll(
        async () => (await summary(h)).mailboxes.find((m: Json) => m.key === billing.key).usage.connections,
        {
          timeout: 10_000,
        },
      )
      .toBe(0);
    const plain = s.mailboxes.find((m: Json) => m.entries.some((e: Json) => e.id === ids.c));
    expect(plain).toMatchObject({ limits: null, usage: null, backlog: { queued: 0, sending: 0 } });
    expect(plain.entries).toEqual([{ id: ids.c, name: 'Plain' }]);
    expect(s.mailboxes).toHaveLength(2);
    // State only: no subject, body or address of a message.
    expect(JSON.stringify(s)).not.toMatch(/secret subject|body text|r0@example\.com/);

    // The minute passes; the 24 h window still holds the recipients.
    kit.clock.advance(61_000);
    const after = (await summary(h)).mailboxes.find((m: Json) => m.key === billing.key);
    expect(after.usage).toMatchObject({ messagesLastMinute: 0, recipientsLastDay: 7 });

    // A cancelled message leaves the backlog.
    expect((await h.api(`/api/messages/${later}/cancel`, { method: 'POST' })).status).toBe(200);
    const done = await summary(h);
    expect(done.counts.cancelled).toBe(1);
    expect(done.mailboxes.find((m: Json) => m.key === billing.key).backlog).toEqual({
      queued: 0,
      sending: 0,
    });
    expect(done.oldestQueuedAgeSeconds).toBeNull();
  }, 120_000);

  it('admin session only: no session is 401, an API key is refused', async () => {
    const { h, key } = await start();
    const anonymous = await h.api('/api/outbox/summary', { cookie: false });
    expect(anonymous.status).toBe(401);
    const withKey = await h.api('/api/outbox/summary', {
      cookie: false,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(withKey.status).toBe(401);
    expect((await json(withKey)).error.code).toBeTruthy();
  });

  // Regression: the page's live updates must not defeat the session's idle timeout (S11).
  it('an automatic refresh (X-Automatic-Refresh: 1) does not extend the idle timeout; the admin’s own request does', async () => {
    const { kit, h } = await start();
    const auto = { headers: { 'x-automatic-refresh': '1' } };
    kit.clock.advance(20 * 60_000);
    expect((await h.api('/api/outbox/summary', auto)).status).toBe(200);
    kit.clock.advance(11 * 60_000);
    // 31 minutes without the admin doing anything: the 30-minute idle timeout ended the session.
    const expired = await h.api('/api/outbox/summary', auto);
    expect(expired.status).toBe(401);
    expect((await json(expired)).error.code).toBe('UNAUTHENTICATED');

    await h.login();
    kit.clock.advance(20 * 60_000);
    expect((await h.api('/api/outbox/summary')).status).toBe(200);
    kit.clock.advance(11 * 60_000);
    expect((await h.api('/api/outbox/summary', auto)).status).toBe(200);
  });

  if (driver.name === 'postgres') {
    it('PostgreSQL: another instance that sent nothing shows the same usage (the shared tables)', async () => {
      const { kit, h, key } = await start();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++)
        ids.push(await send(h, key, { server: 'Billing', to: `r${i}@example.com`, subject: 'x' }));
      for (const id of ids) await until(h, id, (m) => m.status === 'sent');
      const other = await startHarness(driver, {
        store: h.store,
        keepStore: true,
        keyRing: h.keyRing,
        now: () => new Date(kit.clock.now()),
        outbox: { deliver: false },
      });
      open.push(other);
      await other.login();
      const mine = (await summary(h)).mailboxes.find((m: Json) => m.limits);
      const theirs = (await summary(other)).mailboxes.find((m: Json) => m.limits);
      expect(theirs.usage).toMatchObject({ messagesLastMinute: 4, recipientsLastDay: 4 });
      expect(theirs.usage.messagesLastMinute).toBe(mine.usage.messagesLastMinute);
      expect((await summary(other)).counts.sent).toBe(4);
    }, 120_000);
  }
});
