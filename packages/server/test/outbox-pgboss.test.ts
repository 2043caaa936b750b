import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutboxDriver } from '../src/outbox/driver.js';
import { createOutbox } from '../src/outbox/outbox.js';
import { postgresOutbox } from '../src/outbox/postgres.js';
import { OUTBOX_QUEUE, openPgBossOutbox, PGBOSS_SCHEMA } from '../src/outbox/pgboss.js';
import { createServer, type SmtpOAuthServer } from '../src/server.js';
import { openStore, type Store } from '../src/store/db.js';
import { freshPostgresStore, type TestStore } from './helpers/drivers.js';
import { ADMIN, createCapturingLogger, type Json, testKeyRing } from './helpers/harness.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// pg-boss's smallest heartbeat: a worker silent this long is taken for dead.
const LEASE_MS = 10_000;

/**
 * The PostgreSQL engine's own paths (pg-boss): the accept transaction and a job handed out again
 * after its worker died. The contract suite (outbox.test.ts) covers the rest on both drivers.
 */
describe.skipIf(!pgUrl && !inCi)('outbox on pg-boss [postgres]', () => {
  let env: TestEnvironment | undefined;
  let store: TestStore | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  // Every instance decrypts the same entries.
  const keyRing = testKeyRing();
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await env?.close();
    await store?.cleanup();
    env = undefined;
    store = undefined;
  });

  async function server(outbox: { deliver?: boolean } = {}, governed = false) {
    const kit = env!;
    const s: SmtpOAuthServer = await createServer({
      store: store!.options,
      keyRing,
      logger: createCapturingLogger(),
      admin: ADMIN,
      passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
      adminUiDir: false,
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      governor: { enabled: governed },
      now: () => new Date(kit.clock.now()),
      outbox: { pollMs: 100, leaseMs: LEASE_MS, ...outbox },
    });
    const listening = await s.listen(0);
    cleanups.push(async () => {
      await listening.close();
      await s.close();
    });
    const login = await fetch(`${listening.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: listening.url },
      body: JSON.stringify(ADMIN),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const api = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${listening.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', origin: listening.url, cookie, ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    return { s, url: listening.url, api };
  }

  async function setUp() {
    env = await createTestEnvironment({ limits: false });
    store = await freshPostgresStore(pgUrl!);
    // An API-only instance: creates the schema, the entry and the key; delivers nothing.
    const first = await server({ deliver: false });
    const entryId = ((await (await first.api('/api/email-servers', env.config)).json()) as Json).emailServer
      .id as string;
    const key = ((await (await first.api('/api/api-keys', { name: 'app' })).json()) as Json).key as string;
    const db = await openStore(store.options);
    cleanups.push(() => db.close());
    return { first, entryId, key, db };
  }

  const jobsOf = async (db: Store, id: string) =>
    (
      await sql<{ state: string; retry_count: number }>`
        SELECT state, retry_count FROM ${sql.id(PGBOSS_SCHEMA, 'job')}
         WHERE name = ${OUTBOX_QUEUE} AND singleton_key = ${id} ORDER BY created_on`.execute(db.db)
    ).rows;

  /**
   * Worker "A" takes a message (its job fetched from pg-boss, the row under its lease), optionally
   * hands it to the mailer, then dies: no completion, no heartbeat. The SMTP session never starts
   * here, so the testkit shows whether anyone sent it later.
   */
  async function diesHolding(db: Store, entryId: string, transmitting: boolean, redeliveries?: number) {
    const dead = await openPgBossOutbox(db.db, {
      logger: createCapturingLogger(),
      leaseMs: LEASE_MS,
      ...(redeliveries === undefined ? {} : { redeliveries }),
    });
    const outbox = createOutbox({
      driver: dead.driver,
      logger: createCapturingLogger(),
      mailerFor: () => Promise.reject(new Error('worker A never reaches its mailer in this test')),
    });
    const accepted = await outbox.submit({
      entryId,
      source: { kind: 'admin', adminId: 'test' },
      messageId: `<dead-worker-${transmitting}@example.test>`,
      content: { kind: 'message', message: { to: 'r@example.com', subject: 'x', text: 'x' } },
    });
    const [row] = await dead.driver.claim({
      owner: 'worker-a',
      now: new Date(),
      leaseMs: LEASE_MS,
      limit: 1,
    });
    expect(row?.id).toBe(accepted.id);
    if (transmitting) expect(await dead.driver.markTransmitting(accepted.id, 'worker-a')).toBe(true);
    expect(await jobsOf(db, accepted.id)).toEqual([{ state: 'active', retry_count: 0 }]);
    await dead.close();
    return accepted;
  }

  async function until(api: (p: string) => Promise<Response>, id: string, done: (m: Json) => boolean) {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const found = (await (await api(`/api/messages/${id}`)).json()) as Json;
      if (done(found.message)) return found;
      if (Date.now() > deadline || (found.message.status === 'failed' && !done(found.message)))
        throw new Error(`message ${id} still ${found.message.status}: ${JSON.stringify(found)}`);
      await sleep(200);
    }
  }

  it('accept is one transaction: a commit that fails stores neither the row nor its job (503, nothing accepted)', async () => {
    const { first, key, db } = await setUp();
    const send = (subject: string) =>
      fetch(`${first.url}/api/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'r@example.com', subject }),
      });
    // The database refuses the commit (a deferred check runs at COMMIT, after the row and the job
    // were both written): SQLSTATE 57P03, "cannot connect now".
    await sql`CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused at commit' USING ERRCODE = '57P03'; END $$`.execute(db.db);
    await sql`CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON outbox_messages
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()`.execute(db.db);
    const refused = await send('refused');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as Json).error.code).toBe('OUTBOX_UNAVAILABLE');
    const count = async () => ({
      rows: Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM outbox_messages`.execute(db.db)).rows[0]!.n,
      ),
      jobs: Number(
        (
          await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(PGBOSS_SCHEMA, 'job')}
            WHERE name = ${OUTBOX_QUEUE}`.execute(db.db)
        ).rows[0]!.n,
      ),
    });
    expect(await count()).toEqual({ rows: 0, jobs: 0 });

    await sql`DROP TRIGGER refuse_commit ON outbox_messages`.execute(db.db);
    const ok = await send('accepted');
    expect(ok.status).toBe(202);
    const { id } = (await ok.json()) as Json;
    expect(await count()).toEqual({ rows: 1, jobs: 1 });
    // The job waits for a worker (this instance only accepts); its key is the outbox id.
    expect(await jobsOf(db, id)).toEqual([{ state: 'created', retry_count: 0 }]);
  }, 60_000);

  it('a job handed out again after its worker died mid-transmission: the message becomes unknown, never re-sent', async () => {
    const { entryId, db } = await setUp();
    const accepted = await diesHolding(db, entryId, true);
    // A live instance: pg-boss's monitor fails the silent job into retry, this worker fetches it.
    const b = await server();
    const found = await until(b.api, accepted.id, (m) => m.status === 'unknown');
    expect(found.message.lastCode).toBe('OUTBOX_LEASE_EXPIRED');
    expect(found.attempts.map((a: Json) => a.outcome)).toEqual(['interrupted']);
    // pg-boss handed it out again (retry_count 1), and it is settled.
    expect(await jobsOf(db, accepted.id)).toEqual([{ state: 'completed', retry_count: 1 }]);
    await sleep(1000);
    expect(env!.messages()).toHaveLength(0);
  }, 120_000);

  it('a job handed out again after its worker died before transmitting: delivered exactly once, by the new worker', async () => {
    const { entryId, db } = await setUp();
    const accepted = await diesHolding(db, entryId, false);
    const b = await server();
    const found = await until(b.api, accepted.id, (m) => m.status === 'sent');
    expect(found.attempts.map((a: Json) => a.outcome)).toEqual(['sent']);
    expect(await jobsOf(db, accepted.id)).toEqual([{ state: 'completed', retry_count: 1 }]);
    await sleep(1000);
    expect(env!.messages().map((m) => m.messageId)).toEqual([accepted.messageId]);
  }, 120_000);

  it('a transient failure completes the job and schedules the next one; cancel cancels it; retry sends a new one', async () => {
    const { entryId: _entry, db } = await setUp();
    const b = await server();
    const kit = env!;
    const fault = kit.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 'always' });
    const key = ((await (await b.api('/api/api-keys', { name: 'b' })).json()) as Json).key as string;
    const res = await fetch(`${b.url}/api/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'retry-after': '0' },
      body: JSON.stringify({ to: 'r@example.com', subject: 'later' }),
    });
    const { id } = (await res.json()) as Json;
    await until(b.api, id, (m) => m.status === 'queued' && m.attempts === 1);
    // One live job at a time: the attempt's job completed, the next one waits for its time.
    expect((await jobsOf(db, id)).map((j) => j.state)).toEqual(['completed', 'created']);
    expect((await b.api(`/api/messages/${id}/cancel`, {})).status).toBe(200);
    expect((await jobsOf(db, id)).map((j) => j.state)).toEqual(['completed', 'cancelled']);
    kit.faults.smtp.clear(fault.id);
    expect((await b.api(`/api/messages/${id}/retry`, {})).status).toBe(200);
    await until(b.api, id, (m) => m.status === 'sent');
    expect((await jobsOf(db, id)).map((j) => j.state)).toEqual(['completed', 'cancelled', 'completed']);
    expect(kit.messages()).toHaveLength(1);
  }, 120_000);

  it('messages queued without a job (by the SQL-claim outbox before an upgrade) get one at start and are delivered once', async () => {
    const { entryId, db } = await setUp();
    const before = createOutbox({
      driver: createOutboxDriver(db.db, postgresOutbox),
      logger: createCapturingLogger(),
      mailerFor: () => Promise.reject(new Error('never started')),
    });
    const accepted = await before.submit({
      entryId,
      source: { kind: 'admin', adminId: 'test' },
      messageId: '<queued-before-upgrade@example.test>',
      content: { kind: 'message', message: { to: 'r@example.com', subject: 'x', text: 'x' } },
    });
    expect(await jobsOf(db, accepted.id)).toEqual([]);
    const b = await server();
    await until(b.api, accepted.id, (m) => m.status === 'sent');
    expect(await jobsOf(db, accepted.id)).toEqual([{ state: 'completed', retry_count: 0 }]);
    expect(env!.messages().map((m) => m.messageId)).toEqual([accepted.messageId]);
  }, 120_000);

  it('a mailbox without room gives its job back until it has room: no spinning, no second live job', async () => {
    const { first, db } = await setUp();
    const entry = (await (
      await first.api('/api/email-servers', {
        ...env!.config,
        name: 'one per minute',
        limits: { maxConnections: 3, messagesPerMinute: 1 },
      })
    ).json()) as Json;
    const b = await server({}, true);
    const ids: string[] = [];
    for (const subject of ['first', 'second', 'third']) {
      const accepted = await b.s.context.outbox.submit({
        entryId: entry.emailServer.id,
        source: { kind: 'admin', adminId: 'test' },
        messageId: `<governed-${subject}@example.test>`,
        content: { kind: 'message', message: { to: 'r@example.com', subject, text: 'x' } },
      });
      ids.push(accepted.id);
    }
    // One of the three goes out (they are claimed together; whichever the governor admits first).
    const deadline = Date.now() + 60_000;
    while (env!.messages().length < 1 && Date.now() < deadline) await sleep(100);
    expect(env!.messages()).toHaveLength(1);
    const sentId = (await b.s.context.outbox.list({ status: 'sent', limit: 10 }))[0]!.id;
    // Three seconds of polling every 100 ms: the two waiting messages were given back once each,
    // due when the minute's window has room again, not fetched and released over and over.
    await sleep(3000);
    for (const id of ids.filter((i) => i !== sentId)) {
      const found = (await (await b.api(`/api/messages/${id}`)).json()) as Json;
      expect(found.message.status).toBe('queued');
      expect(found.attempts).toEqual([]);
      const jobs = (
        await sql<{ state: string; wait: number }>`
          SELECT state, extract(epoch FROM start_after - now()) AS wait FROM ${sql.id(PGBOSS_SCHEMA, 'job')}
           WHERE name = ${OUTBOX_QUEUE} AND singleton_key = ${id} ORDER BY created_on`.execute(db.db)
      ).rows;
      expect(jobs.length).toBeLessThanOrEqual(3);
      expect(jobs.filter((j) => j.state === 'created')).toHaveLength(1);
      expect(Number(jobs.at(-1)!.wait)).toBeGreaterThan(30);
    }
    expect(env!.messages()).toHaveLength(1);
  }, 120_000);

  it('a job out of redeliveries goes to the dead-letter queue, and its row ends instead of waiting forever', async () => {
    const { entryId, db } = await setUp();
    // No redelivery allowed: the first lapsed heartbeat fails the job into the dead-letter queue.
    const accepted = await diesHolding(db, entryId, true, 0);
    const b = await server();
    const found = await until(b.api, accepted.id, (m) => m.status === 'unknown');
    expect(found.message.lastCode).toBe('OUTBOX_LEASE_EXPIRED');
    expect(await jobsOf(db, accepted.id)).toEqual([{ state: 'failed', retry_count: 0 }]);
    const dead = (
      await sql<{ state: string }>`SELECT state FROM ${sql.id(PGBOSS_SCHEMA, 'job')}
         WHERE name = 'outbox_dead' AND data->>'id' = ${accepted.id}`.execute(db.db)
    ).rows;
    // Regression: the dead letter was settled in the outbox queue's name, so it stayed active.
    expect(dead).toEqual([{ state: 'completed' }]);
    expect(env!.messages()).toHaveLength(0);
  }, 120_000);
});
