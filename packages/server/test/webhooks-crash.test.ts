import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { Webhook } from 'standardwebhooks';
import { afterEach, expect, it } from 'vitest';
import { type RunningBin, runBin, waitForOutput } from './helpers/child-process.js';
import { describeDrivers, type TestStore } from './helpers/drivers.js';
import type { Json } from './helpers/harness.js';

// The server's entry point, run as a child process exactly as an operator starts it.
const BIN = fileURLToPath(new URL('../src/bin/server.ts', import.meta.url));
const ADMIN_PASSWORD = 'webhook-crash-admin-password';
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const FINAL = new Set(['sent', 'failed', 'unknown', 'cancelled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

let env: TestEnvironment | undefined;
let store: TestStore | undefined;
let closeReceiver: (() => Promise<void>) | undefined;
const running: RunningBin[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await closeReceiver?.();
  await env?.close();
  await store?.cleanup();
  env = undefined;
  store = undefined;
  closeReceiver = undefined;
});

describeDrivers('webhooks survive kill -9', (driver) => {
  it('every message that ends gets its event for that final state, signed; repeats only with the same webhook-id', async () => {
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    // Each end of DATA held a little, so kills land while messages and events are in flight.
    kit.faults.smtp.add({ stage: 'data-end', delayMs: 40, times: 'always' });
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    closeReceiver = () =>
      new Promise<void>((r) => {
        receiver.closeAllConnections();
        receiver.close(() => r());
      });
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    store = await driver.freshStore();
    const port = await freePort();
    const settings: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_PASSWORD,
      SMTP_OAUTH_KEYS: KEYS,
      LOG_LEVEL: 'error',
      TOKEN_HOST_ALLOWLIST: '127.0.0.1',
      SMTP_ALLOW_PRIVATE_HOSTS: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      OUTBOX_LEASE_MS: '3000',
      OUTBOX_POLL_MS: '200',
      ...('databaseUrl' in store.options
        ? { DATABASE_URL: store.options.databaseUrl }
        : { DATA_DIR: (store.options as { dataDir: string }).dataDir }),
    };
    const start = async () => {
      const proc = runBin(BIN, [], settings, ['--import', 'tsx']);
      running.push(proc);
      await waitForOutput(proc.output, /smtp-oauth server on (http:\/\/\S+)/, 60_000);
      return proc;
    };
    let proc = await start();
    const url = `http://127.0.0.1:${port}`;

    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ email: 'admin@localhost', password: ADMIN_PASSWORD }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const admin = (path: string, body?: unknown, method = 'POST') =>
      fetch(`${url}${path}`, {
        method: body === undefined ? 'GET' : method,
        headers: { 'content-type': 'application/json', origin: url, cookie },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await admin('/api/email-servers', kit.config)).status).toBe(201);
    const made = (await (await admin('/api/api-keys', { name: 'crash' })).json()) as Json;
    const set = (await (
      await admin(`/api/api-keys/${made.apiKey.id}/webhook`, { url: hookUrl }, 'PUT')
    ).json()) as Json;
    const secret = set.secret as string;

    const MESSAGES = 60;
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const res = await fetch(`${url}/api/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${made.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: `r${i}@example.com`, subject: `hook ${i}`, text: 'x' }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as Json).id);
    }
    let kills = 0;
    for (; kills < 2; kills++) {
      await sleep(600 + kills * 400);
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc = await start();
    }

    // Every message reaches a final state …
    const finals = new Map<string, string>();
    const deadline = Date.now() + 120_000;
    for (const id of ids)
      for (;;) {
        const status = ((await (await admin(`/api/messages/${id}`)).json()) as Json).message.status as string;
        if (FINAL.has(status)) {
          finals.set(id, status);
          break;
        }
        if (Date.now() > deadline) throw new Error(`message ${id} still ${status}`);
        await sleep(100);
      }
    // … and an event for that state reaches the receiver (a lease cut mid-post delays it).
    const wh = new Webhook(secret);
    const seen = () => {
      const events = new Map<string, { id: string; status: string }>();
      for (const r of received) {
        const event = wh.verify(r.body, r.headers as Record<string, string>) as Json;
        const webhookId = String(r.headers['webhook-id']);
        const earlier = events.get(webhookId);
        // A repeat carries the same event.
        if (earlier) expect(earlier).toEqual({ id: event.data.id, status: event.data.status });
        events.set(webhookId, { id: event.data.id, status: event.data.status });
      }
      return events;
    };
    const missing = () => {
      const got = new Set([...seen().values()].map((e) => `${e.id} ${e.status}`));
      return ids.filter((id) => !got.has(`${id} ${finals.get(id)}`));
    };
    const hookDeadline = Date.now() + 120_000;
    while (missing().length > 0 && Date.now() < hookDeadline) await sleep(200);
    const events = seen();
    const repeats = received.length - events.size;
    const count = (s: string) => [...finals.values()].filter((v) => v === s).length;
    console.log(
      `[webhook crash ${driver.name}] kills=${kills} messages=${MESSAGES} sent=${count('sent')} unknown=${count('unknown')} events=${events.size} posts=${received.length} repeats=${repeats}`,
    );
    expect(missing()).toEqual([]);
    // Only events of these messages, and at most one per message and final state it went through.
    for (const e of events.values()) expect(ids).toContain(e.id);
  }, 300_000);
});
