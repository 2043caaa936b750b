import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/server.js';
import { describeDrivers, freshPostgresStore, type TestStore } from './helpers/drivers.js';
import { type RunningBin, runBin, waitForOutput } from './helpers/child-process.js';
import { type Json, testKeyRing } from './helpers/harness.js';

// The server's entry point, run as a child process exactly as an operator starts it.
const BIN = fileURLToPath(new URL('../src/bin/server.ts', import.meta.url));
const ADMIN_PASSWORD = 'crash-test-admin-password';
const KEYS = `k1:${randomBytes(32).toString('base64')}`;

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = new Set(['sent', 'failed', 'unknown', 'cancelled']);

interface ServerProcess {
  proc: RunningBin;
  url: string;
}

let env: TestEnvironment | undefined;
let store: TestStore | undefined;
const running: RunningBin[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await env?.close();
  await store?.cleanup();
  env = undefined;
  store = undefined;
});

async function startServer(settings: Record<string, string>): Promise<ServerProcess> {
  const proc = runBin(BIN, [], settings, ['--import', 'tsx']);
  running.push(proc);
  const [, url] = await waitForOutput(proc.output, /smtp-oauth server on (http:\/\/\S+)/, 60_000);
  return { proc, url: url! };
}

/** An admin session, an entry for the testkit and an API key, through the HTTP API. */
async function provision(url: string, kit: TestEnvironment) {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: 'admin@localhost', password: ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const admin = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', origin: url, cookie },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  expect((await admin('/api/email-servers', kit.config)).status).toBe(201);
  const key = ((await (await admin('/api/api-keys', { name: 'burst' })).json()) as Json).key as string;
  return { cookie, key };
}

function settingsFor(s: TestStore, port: number, extra: Record<string, string> = {}): Record<string, string> {
  const where: Record<string, string> =
    'databaseUrl' in s.options
      ? { DATABASE_URL: s.options.databaseUrl }
      : { DATA_DIR: (s.options as { dataDir: string }).dataDir };
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_PASSWORD,
    SMTP_OAUTH_KEYS: KEYS,
    LOG_LEVEL: 'error',
    TOKEN_HOST_ALLOWLIST: '127.0.0.1',
    SMTP_ALLOW_PRIVATE_HOSTS: 'true',
    ...where,
    ...extra,
  };
}

describeDrivers('crash safety: kill -9 during bursts, then restart', (driver) => {
  it('every 202 ends sent, failed or unknown; no Message-ID is delivered twice', async () => {
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    // Each end-of-DATA held a little, so kills land while messages are on the wire.
    kit.faults.smtp.add({ stage: 'data-end', delayMs: 40, times: 'always' });
    store = await driver.freshStore();
    const port = await freePort();
    // A short lease: PostgreSQL reclaims a dead instance's rows after it (SQLite at restart).
    const settings = settingsFor(store, port, { OUTBOX_LEASE_MS: '3000', OUTBOX_POLL_MS: '200' });
    let server = await startServer(settings);
    const { cookie, key } = await provision(server.url, kit);
    const url = server.url;

    const MESSAGES = 150;
    const accepted = new Map<number, { id: string; messageId: string }>();
    let next = 0;
    // A client that retries until it gets its 202, with one Idempotency-Key per message: after a
    // crash it cannot know whether its request was stored, and the key makes the retry safe.
    async function client(): Promise<void> {
      for (;;) {
        const i = next++;
        if (i >= MESSAGES) return;
        for (;;) {
          try {
            const res = await fetch(`${url}/api/send`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${key}`,
                'content-type': 'application/json',
                'idempotency-key': `burst-${i}`,
              },
              body: JSON.stringify({ to: `r${i}@example.com`, subject: `burst ${i}`, text: 'x' }),
              signal: AbortSignal.timeout(20_000),
            });
            if (res.status === 202) {
              const body = (await res.json()) as Json;
              const earlier = accepted.get(i);
              // A repeat returns the first answer.
              if (earlier) expect(body.id).toBe(earlier.id);
              accepted.set(i, { id: body.id, messageId: body.messageId });
              break;
            }
            expect([503]).toContain(res.status);
            await res.arrayBuffer();
          } catch {
            // Connection refused or reset: the server is down (killed) — retry.
          }
          await sleep(100);
        }
      }
    }
    const clients = Promise.all(Array.from({ length: 6 }, () => client()));

    let kills = 0;
    for (; kills < 3; kills++) {
      await sleep(700 + kills * 300);
      server.proc.child.kill('SIGKILL');
      await server.proc.exited;
      server = await startServer(settings);
    }
    await clients;
    expect(accepted.size).toBe(MESSAGES);

    // Everything reaches a final state after the last restart.
    const statuses = new Map<string, string>();
    const deadline = Date.now() + 90_000;
    for (const { id } of accepted.values()) {
      for (;;) {
        const res = await fetch(`${url}/api/messages/${id}`, { headers: { cookie } });
        const status = ((await res.json()) as Json).message.status as string;
        if (FINAL.has(status)) {
          statuses.set(id, status);
          break;
        }
        if (Date.now() > deadline) throw new Error(`message ${id} still ${status}`);
        await sleep(100);
      }
    }
    const count = (s: string) => [...statuses.values()].filter((v) => v === s).length;
    const listed = (
      (await (await fetch(`${url}/api/messages?limit=500`, { headers: { cookie } })).json()) as Json
    ).messages as Json[];
    const delivered = kit.messages().map((m) => m.messageId);
    const perId = new Map<string, number>();
    for (const id of delivered) perId.set(id, (perId.get(id) ?? 0) + 1);
    const duplicates = [...perId.values()].filter((n) => n > 1).length;
    console.log(
      `[crash ${driver.name}] kills=${kills} accepted=${accepted.size} sent=${count('sent')} failed=${count('failed')} unknown=${count('unknown')} delivered=${delivered.length} duplicates=${duplicates}`,
    );

    // One stored message per Idempotency-Key, never a second one from a retry.
    expect(listed).toHaveLength(MESSAGES);
    expect(count('sent') + count('failed') + count('unknown')).toBe(MESSAGES);
    expect(duplicates).toBe(0);
    const acceptedIds = new Set([...accepted.values()].map((a) => a.messageId));
    for (const id of delivered) expect(acceptedIds.has(id)).toBe(true);
    // Every message reported sent is at the testkit; an `unknown` one may or may not be.
    for (const m of listed.filter((x) => x.status === 'sent')) expect(perId.get(m.messageId)).toBe(1);
    expect(delivered.length).toBeGreaterThanOrEqual(count('sent'));
    expect(delivered.length).toBeLessThanOrEqual(count('sent') + count('unknown'));
  }, 300_000);
});

it('SIGTERM: stops claiming, finishes sends in flight, leaves the rest queued; the API answers 503 meanwhile', async () => {
  env = await createTestEnvironment({ limits: false });
  const kit = env;
  kit.faults.smtp.add({ stage: 'data-end', delayMs: 1500, times: 'always' });
  const dir = await mkdtemp(join(tmpdir(), 'smtp-oauth-drain-'));
  store = { options: { dataDir: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  const port = await freePort();
  const server = await startServer(
    settingsFor(store, port, { OUTBOX_CONCURRENCY: '2', OUTBOX_DRAIN_TIMEOUT_MS: '20000' }),
  );
  const { cookie, key } = await provision(server.url, kit);
  const post = (headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ to: 'a@example.com', subject: 'drain', text: 'x' }),
    });
  // One delivery first, so the entry's mailer and token exist when the burst comes.
  expect((await post({ prefer: 'wait=30' })).status).toBe(200);
  for (let i = 0; i < 6; i++) expect((await post()).status).toBe(202);
  // Two in flight (concurrency 2), four waiting.
  for (let i = 0; ; i++) {
    const sending = (
      (await (
        await fetch(`${server.url}/api/messages?status=sending`, { headers: { cookie } })
      ).json()) as Json
    ).messages as Json[];
    if (sending.length === 2) break;
    if (i > 200) throw new Error('never two in flight');
    await sleep(50);
  }
  // Both on the wire (the testkit holds each end of DATA for 1.5 s).
  await sleep(500);
  server.proc.child.kill('SIGTERM');
  await sleep(200);
  const refused = await post();
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(((await refused.json()) as Json).error.code).toBe('SHUTTING_DOWN');
  const ready = await fetch(`${server.url}/api/ready`);
  expect(ready.status).toBe(503);
  expect(await server.proc.exited).toBe(0);

  const db = new SQLite(`${dir}/smtp-oauth.sqlite`, { readonly: true });
  const rows = db.prepare('select status, count(*) as n from outbox_messages group by status').all() as {
    status: string;
    n: number;
  }[];
  db.close();
  expect(Object.fromEntries(rows.map((r) => [r.status, r.n]))).toEqual({ sent: 3, queued: 4 });
  expect(kit.messages()).toHaveLength(3);
}, 120_000);

it('a database outage answers 503 with Retry-After (not 500), and the API recovers with the database', async () => {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return; // PostgreSQL-only scenario; the driver suites cover CI's requirement
  const pgUrl = new URL(adminUrl);
  // A TCP proxy in front of PostgreSQL: closing it is the outage (the database itself keeps running).
  const sockets = new Set<Socket>();
  let up = true;
  const proxy = createNetServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(Number(pgUrl.port), pgUrl.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const driverStore = await freshPostgresStore(adminUrl);
  store = driverStore;
  const url = new URL((driverStore.options as { databaseUrl: string }).databaseUrl);
  url.port = String((proxy.address() as AddressInfo).port);
  url.hostname = '127.0.0.1';
  const server = await createServer({
    store: { databaseUrl: url.toString() },
    keyRing: testKeyRing(),
    admin: { password: ADMIN_PASSWORD },
    passwordHashing: { N: 1024, r: 8, p: 1 },
    adminUiDir: false,
    lookupCacheMs: 0,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const { url: base } = await server.listen(0);
  try {
    up = false;
    for (const s of sockets) s.destroy();
    const res = await fetch(`${base}/api/send`, {
      method: 'POST',
      headers: { authorization: 'Bearer smtpo_0123456789abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'a@example.com', subject: 'x' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as Json).error.code).toMatch(/_UNAVAILABLE$/);
    expect((await fetch(`${base}/api/ready`)).status).toBe(503);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    up = true;
    // Ready again once the outbox's next claim succeeds (it polls every second).
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      if (i > 0) await sleep(100);
      ready = (await fetch(`${base}/api/ready`)).status;
    }
    expect(ready).toBe(200);
  } finally {
    await server.close();
    proxy.close();
  }
}, 60_000);
