/**
 * The outbox's figures, each measured side by side in one run against the testkit (own process,
 * limits off); best of interleaved rounds, so a busy neighbour on a shared machine hurts both sides
 * alike. Prints a table and `BENCH_ROW` lines for the root `pnpm bench`.
 *
 * (a) Durable accept rate: `POST /api/send` (API key, entry lookup, core's validation, one outbox
 *     row committed, 202) with delivery off, vs a bare express route that inserts the same JSON
 *     payload into a table of the same SQLite database (same connection, WAL + synchronous=NORMAL)
 *     and answers 201. 8 keep-alive HTTP clients in a worker thread for both. Target ≥ 0.7.
 * (b) Delivery rate, limits off: N messages already queued, the outbox delivering them (claim,
 *     transmitting mark, send, attempt recorded) vs core's mailer sending the same N directly with
 *     the outbox's concurrency, in a worker thread. Same mailer options (5 pooled connections, no
 *     rate limit). Target ≥ 0.9.
 * (c) Two instances on one PostgreSQL vs one, limits off: N messages delivered by one server
 *     instance, then N by two sharing the database (pg-boss hands out the jobs). Each instance is a
 *     process of its own (instance-process.ts), as in a deployment; this process only queues the N
 *     messages (through an API-only server on the same database, timed with the delivery) and
 *     counts them at the testkit. Target ≥ 1.6 — which needs cores for the second instance. Each
 *     round prints the CPU seconds per wall second of the instances, the testkit, this process and
 *     PostgreSQL (from /proc): when they add up to the machine's cores with one instance, a second
 *     one has nothing to run on, and the ratio measures the machine, not the engine.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { MailerOptions, MailMessage } from '@org/core';
import express from 'express';
import { sql } from 'kysely';
import pg from 'pg';
import { generateApiKey } from '../src/auth/api-keys.js';
import { createEmailServer } from '../src/email-servers.js';
import { silentLogger } from '../src/logger.js';
import { createKeyRing, type KeyRing } from '../src/secrets/keyring.js';
import { createServer, type SmtpOAuthServer } from '../src/server.js';
import type { StoreOptions } from '../src/store/db.js';
import { type Run, startLoad, startTestkit } from './shared.js';

const CLIENTS = 8;
const ACCEPTS = Number(process.env.BENCH_ACCEPTS ?? 2000);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;
const MAILER_OPTIONS = { limits: false } satisfies Pick<MailerOptions, 'limits'>;
const body = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(36); // ~2 KB
const messageFor = (i: number): MailMessage => ({
  to: `recipient${i % 50}@example.com`,
  subject: `Benchmark message ${i}`,
  text: body,
});

type Testkit = Awaited<ReturnType<typeof startTestkit>>;

const f = (n: number) => n.toFixed(1);
const best = (values: number[]) => Math.max(...values);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CPU time (ms) of the calling thread, from /proc (Linux; utime + stime in USER_HZ 100); 0 elsewhere. */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}
/** The server's main-thread CPU per delivered message (ms), per round: what the outbox adds. */
const mainCpuPerMessage: number[] = [];

function row(figure: string, ours: number, comparison: string, theirs: number, target: number, unit = '/s') {
  const ratio = ours / theirs;
  const pass = ratio >= target;
  console.log(
    `  ${figure}: ${f(ours)}${unit} vs ${f(theirs)}${unit} (${comparison}) — ratio ${ratio.toFixed(2)} (target ≥ ${target}) ${pass ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `BENCH_ROW ${JSON.stringify({
      figure,
      ours: f(ours),
      comparison: `${f(theirs)} ${comparison}`,
      ratio: Number(ratio.toFixed(2)),
      target: `≥ ${target}`,
      pass,
    })}`,
  );
  return pass;
}

async function newServer(store: StoreOptions, keyRing: KeyRing, deliver: boolean): Promise<SmtpOAuthServer> {
  return createServer({
    store,
    keyRing,
    logger: silentLogger,
    admin: { password: randomBytes(12).toString('base64url') },
    passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
    adminUiDir: false,
    tokenHostAllowlist: ['127.0.0.1'],
    smtp: { allowedAddresses: ['127.0.0.1'] },
    runtime: { mailer: MAILER_OPTIONS },
    // BENCH_MAILER_THREAD=0: the mailers on the main thread, to compare.
    mailerThread: process.env.BENCH_MAILER_THREAD !== '0',
    outbox: { deliver, concurrency: CONCURRENCY, pollMs: 50 },
  });
}

/** Queues `n` messages through the outbox interface (no HTTP): the state (b) and (c) start from. */
async function enqueue(server: SmtpOAuthServer, entryId: string, n: number, round: string): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        server.context.outbox.submit({
          entryId,
          source: { kind: 'admin', adminId: 'bench' },
          content: { kind: 'message', message: messageFor(i + j) },
          messageId: `<${round}-${i + j}-${randomUUID()}@bench.invalid>`,
        }),
      ),
    );
  }
}

/** Waits until the testkit holds `expected` messages. */
async function delivered(testkit: Testkit, expected: number): Promise<void> {
  while (((await testkit.call('count')) as number) < expected) await sleep(5);
}

/**
 * Delivery rate of running `servers`: warmed first (worker thread, token, SMTP pool), then N
 * messages queued and timed until the testkit holds them all. Queuing overlaps with delivery and
 * is counted against the outbox.
 */
async function deliveryRun(servers: SmtpOAuthServer[], testkit: Testkit, entryId: string, tag: string) {
  await testkit.call('reset');
  await Promise.all(servers.map((s) => s.context.outbox.start()));
  await enqueue(servers[0]!, entryId, 40 * servers.length, `warm-${tag}`);
  await delivered(testkit, 40 * servers.length);
  await sleep(200);
  await testkit.call('reset');
  const started = performance.now();
  const cpu = threadCpuMs();
  await enqueue(servers[0]!, entryId, DELIVERIES, tag);
  await delivered(testkit, DELIVERIES);
  const seconds = (performance.now() - started) / 1000;
  // Includes queuing the messages and this loop's polling of the testkit.
  mainCpuPerMessage.push((threadCpuMs() - cpu) / DELIVERIES);
  await Promise.all(servers.map((s) => s.close()));
  return DELIVERIES / seconds;
}

/** (a) POST /api/send with delivery off vs a bare express route inserting the same payload. */
async function acceptRate(testkit: Testkit): Promise<boolean> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-bench-accept-'));
  const server = await newServer({ dataDir }, createKeyRing([{ id: 'b', key: randomBytes(32) }]), false);
  const ctx = server.context;
  await createEmailServer(ctx, testkit.config, 'bench', null);
  const { key, prefix, hash } = generateApiKey();
  await ctx.repos.apiKeys.insert({
    id: 'bench-key',
    name: 'bench',
    prefix,
    key_hash: hash,
    created_at: new Date().toISOString(),
    created_by: 'bench',
    revoked_at: null,
    last_used_at: null,
  });
  const { url, close } = await server.listen(0, '127.0.0.1');
  // The bare route: the same database connection (same file, same pragmas), one INSERT, 201.
  await sql`CREATE TABLE bench_bare (id text primary key, created_at text not null, payload text not null)`.execute(
    ctx.store.db,
  );
  const bare = express();
  bare.use(express.json({ limit: '1mb' }));
  bare.post('/bare', async (req, res) => {
    await sql`INSERT INTO bench_bare (id, created_at, payload) VALUES (${randomUUID()}, ${new Date().toISOString()}, ${JSON.stringify(req.body)})`.execute(
      ctx.store.db,
    );
    res.status(201).json({ ok: true });
  });
  const bareServer = bare.listen(0, '127.0.0.1');
  await new Promise((r) => bareServer.once('listening', r));
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/bare`;
  const api = await startLoad({
    clients: CLIENTS,
    body,
    mode: 'http',
    url: `${url}/api/send`,
    key,
    expectStatus: 202,
  });
  const plain = await startLoad({
    clients: CLIENTS,
    body,
    mode: 'http',
    url: bareUrl,
    key,
    expectStatus: 201,
  });
  try {
    await api.run(500);
    await plain.run(500);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [api, plain] : [plain, api];
      for (const side of order) {
        const run: Run = await side.run(ACCEPTS);
        (side === api ? ours : theirs).push(ACCEPTS / run.seconds);
      }
    }
    const stored = await sql<{ n: number }>`select count(*) as n from outbox_messages`.execute(ctx.store.db);
    if (Number(stored.rows[0]?.n) !== 500 + ROUNDS * ACCEPTS)
      throw new Error('(a): not every 202 is a stored row');
    console.log(`  (a) rounds/s: api ${ours.map(f).join(', ')}; bare ${theirs.map(f).join(', ')}`);
    return row(
      `server POST /api/send durable accepts/s (${ACCEPTS}, ${CLIENTS} clients, SQLite, delivery off)`,
      best(ours),
      'bare express INSERT of the same payload, same database',
      best(theirs),
      0.7,
    );
  } finally {
    await api.close();
    await plain.close();
    await new Promise((r) => bareServer.close(r));
    await close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** (b) The outbox delivering N queued messages vs core's mailer sending them directly. */
async function deliveryRate(testkit: Testkit): Promise<boolean> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-bench-deliver-'));
  const keyRing = createKeyRing([{ id: 'b', key: randomBytes(32) }]);
  const setup = await newServer({ dataDir }, keyRing, false);
  const entryId = (await createEmailServer(setup.context, testkit.config, 'bench', null)).emailServer.id;
  await setup.close();
  const direct = await startLoad({
    clients: CONCURRENCY,
    body,
    mode: 'direct',
    config: testkit.config,
    mailerOptions: MAILER_OPTIONS,
  });
  try {
    await direct.run(200);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const outboxRound = async () => {
        ours.push(
          await deliveryRun([await newServer({ dataDir }, keyRing, false)], testkit, entryId, `r${round}`),
        );
      };
      const directRound = async () => {
        const run = await direct.run(DELIVERIES);
        theirs.push(DELIVERIES / run.seconds);
      };
      if (round % 2 === 0) {
        await outboxRound();
        await directRound();
      } else {
        await directRound();
        await outboxRound();
      }
    }
    console.log(`  (b) rounds/s: outbox ${ours.map(f).join(', ')}; direct ${theirs.map(f).join(', ')}`);
    console.log(
      `  (b) server main-thread CPU per message (ms, queuing included): ${mainCpuPerMessage.map((v) => v.toFixed(2)).join(', ')}`,
    );
    return row(
      `server outbox deliveries/s (${DELIVERIES} queued, limits off, concurrency ${CONCURRENCY}, SQLite)`,
      best(ours),
      `core mailer direct (${CONCURRENCY}-way)`,
      best(theirs),
      0.9,
    );
  } finally {
    await direct.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * CPU time (ms) of every PostgreSQL process on this machine, from /proc (Linux; 0 elsewhere): the
 * database's share of the cores in figure (c). Processes that ended in between are not counted.
 */
function postgresCpuMs(): number {
  let total = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime (USER_HZ)
      } catch {}
    }
  } catch {}
  return total;
}

/** A server instance in its own process (instance-process.ts), driven over IPC. */
async function startInstance(settings: Record<string, unknown>) {
  const child: ChildProcess = fork(new URL('./instance-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_INSTANCE: JSON.stringify(settings) },
    stdio: 'inherit',
  });
  let seq = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`instance process exited (${code})`)));
    child.on('message', (m: { ready?: boolean; id?: number; value?: unknown }) => {
      if (m.ready) resolve();
      else if (m.id !== undefined) waiting.get(m.id)?.(m.value);
    });
  });
  const call = (cmd: 'start' | 'cpu' | 'close') =>
    new Promise<unknown>((resolve) => {
      const id = seq++;
      waiting.set(id, resolve);
      child.send({ cmd, id });
    });
  return {
    start: () => call('start'),
    cpuMs: async () => (await call('cpu')) as number,
    async close() {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      await call('close');
      await exited;
    },
  };
}

/** (c) Two instances on one PostgreSQL vs one, limits off; each instance its own process. */
async function twoInstances(testkit: Testkit, adminUrl: string): Promise<boolean> {
  const name = `smtp_oauth_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const store = { databaseUrl: url.toString() };
  const key = randomBytes(32);
  const keyRing = createKeyRing([{ id: 'b', key }]);
  const settings = {
    databaseUrl: store.databaseUrl,
    key: key.toString('base64'),
    concurrency: CONCURRENCY,
    pollMs: 50,
  };
  // Queues the messages (delivery off in this process); the instances deliver them.
  const queuing = await newServer(store, keyRing, false);
  try {
    const entryId = (await createEmailServer(queuing.context, testkit.config, 'bench', null)).emailServer.id;
    const rate = async (instances: number, round: number) => {
      const children = await Promise.all(Array.from({ length: instances }, () => startInstance(settings)));
      const tag = `pg${instances}-${round}`;
      await testkit.call('reset');
      await Promise.all(children.map((c) => c.start()));
      // Warm: every instance's mailer thread, token and SMTP pool.
      await enqueue(queuing, entryId, 40 * instances, `warm-${tag}`);
      await delivered(testkit, 40 * instances);
      await sleep(200);
      await testkit.call('reset');
      // CPU time of every process involved but PostgreSQL: how much of the 2 cores the round used.
      const cpu = async () => ({
        instances: (await Promise.all(children.map((c) => c.cpuMs()))).reduce((a, b) => a + b, 0),
        testkit: (await testkit.call('cpu')) as number,
        queuing: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
        postgres: postgresCpuMs(),
      });
      const before = await cpu();
      const started = performance.now();
      await enqueue(queuing, entryId, DELIVERIES, tag);
      const queuedIn = (performance.now() - started) / 1000;
      await delivered(testkit, DELIVERIES);
      const seconds = (performance.now() - started) / 1000;
      const after = await cpu();
      const [load1] = loadavg();
      console.log(
        `  (c) ${instances} instance(s): ${f(DELIVERIES / seconds)}/s (all queued after ${queuedIn.toFixed(2)} s); CPU s per wall s — instances ${(
          (after.instances - before.instances) / 1000 / seconds
        ).toFixed(2)}, testkit ${((after.testkit - before.testkit) / 1000 / seconds).toFixed(2)}, queuing ${(
          (after.queuing - before.queuing) / 1000 / seconds
        ).toFixed(
          2,
        )}, PostgreSQL ${((after.postgres - before.postgres) / 1000 / seconds).toFixed(2)}; machine load ${load1!.toFixed(1)} on ${cpus().length} cores`,
      );
      await Promise.all(children.map((c) => c.close()));
      return DELIVERIES / seconds;
    };
    const one: number[] = [];
    const two: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        one.push(await rate(1, round));
        two.push(await rate(2, round));
      } else {
        two.push(await rate(2, round));
        one.push(await rate(1, round));
      }
    }
    console.log(`  (c) rounds/s: two instances ${two.map(f).join(', ')}; one ${one.map(f).join(', ')}`);
    return row(
      `server outbox deliveries/s, 2 instance processes on one PostgreSQL, pg-boss (${DELIVERIES} queued, limits off)`,
      best(two),
      'one instance process',
      best(one),
      1.6,
    );
  } finally {
    await queuing.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function main() {
  const testkit = await startTestkit();
  console.log(
    `\nOutbox benchmarks — testkit limits off (own process), best of ${ROUNDS} interleaved rounds\n`,
  );
  let ok = true;
  try {
    // BENCH_ONLY=a|b|c runs one figure (profiling).
    const only = process.env.BENCH_ONLY;
    if (!only || only === 'a') ok = (await acceptRate(testkit)) && ok;
    if (!only || only === 'b') ok = (await deliveryRate(testkit)) && ok;
    const pgUrl = process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL;
    if (only && only !== 'c') return;
    if (pgUrl) ok = (await twoInstances(testkit, pgUrl)) && ok;
    else console.log('  (c) skipped: set TEST_DATABASE_URL (PostgreSQL) to measure two instances');
  } finally {
    await testkit.call('close');
  }
  if (!ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
