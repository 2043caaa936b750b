/**
 * The SMTP relay against the testkit's Exchange (limits off, in its own process), from the built
 * server (`dist/`; `pnpm bench` builds first). Prints a table and `BENCH_ROW` lines:
 *
 * 1. Throughput: 10 KB messages over 4 client connections (nodemailer pool: STARTTLS and AUTH once
 *    per connection) through the relay, as a ratio to core's mailer sending the same MIME bytes
 *    (`sendRaw`) directly with the same 4-way concurrency, in the same run. Target ≥ 0.8.
 *    Rounds are interleaved and alternate which side goes first; the best round of each is taken.
 *    The relay answers 250 after the outbox commit and delivers afterwards, so a relay round ends
 *    when the testkit holds all its messages (send of the first → delivery of the last).
 * 2. Latency p50/p99 from the device's send to the relay's 250, and accept-to-delivered (the outbox
 *    row's created_at → finished_at) p50/p99.
 * 3. The printer pattern: a new connection per message (connect, STARTTLS, AUTH, one message,
 *    QUIT), one device sequentially and 4 devices at once. Targets ≥ 25 and ≥ 47 msg/s: ten times
 *    what email-oauth2-proxy manages (2.5 and 4.7 msg/s, issue #17), which runs a slow key
 *    derivation per login where the relay checks a SHA-256 of a random password.
 *
 * Every side's clients run in a worker thread (relay-load-worker.mjs). After the runs the testkit
 * must hold exactly every message sent — the relay skips nothing.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createEmailServer } from '../dist/email-servers.js';
import { silentLogger } from '../dist/logger.js';
import { generateDevicePassword } from '../dist/relay/credentials.js';
import { GENERATED_CERT_FILE } from '../dist/relay/tls.js';
import { createKeyRing } from '../dist/secrets/keyring.js';
import { createServer } from '../dist/server.js';
import { createRelayRepository } from '../dist/store/relay-repository.js';

const N = Number(process.env.BENCH_RELAY_MESSAGES ?? 600);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PRINTER_N = Number(process.env.BENCH_PRINTER_MESSAGES ?? 200);
const CLIENTS = 4;
const TARGET_RATIO = 0.8;
const TARGET_PRINTER_SEQ = 25;
const TARGET_PRINTER_PAR = 47;
const MAILER_OPTIONS = { limits: false };

function startTestkit() {
  const child = fork(new URL('./testkit-process.mjs', import.meta.url), { execArgv: [], stdio: 'inherit' });
  let seq = 0;
  const waiting = new Map();
  const ready = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`testkit process exited (${code})`)));
    child.on('message', (m) => {
      if (m.ready) resolve(m.config);
      else waiting.get(m.id)?.(m.value);
    });
  });
  return ready.then((config) => ({
    config,
    call: (cmd) =>
      new Promise((resolve) => {
        const id = seq++;
        waiting.set(id, resolve);
        child.send({ cmd, id });
      }),
  }));
}

async function startLoad(workerData) {
  const worker = new Worker(new URL('./relay-load-worker.mjs', import.meta.url), { workerData });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    run: (total) =>
      new Promise((resolve, reject) => {
        const onError = (e) => reject(e);
        worker.once('error', onError);
        worker.once('message', (m) => {
          worker.off('error', onError);
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        });
        worker.postMessage({ total });
      }),
    close: async () => {
      worker.postMessage({ close: true });
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f = (n) => n.toFixed(1);
const row = (fields) => console.log(`BENCH_ROW ${JSON.stringify(fields)}`);

async function main() {
  const testkit = await startTestkit();
  const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-relay-bench-'));
  const tlsDir = join(dataDir, 'relay');
  const server = await createServer({
    store: { dataDir },
    keyRing: createKeyRing([{ id: 'bench', key: randomBytes(32) }]),
    logger: silentLogger,
    admin: { password: randomBytes(12).toString('base64url') },
    passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
    adminUiDir: false,
    tokenHostAllowlist: ['127.0.0.1'],
    smtp: { allowedAddresses: ['127.0.0.1'] },
    runtime: { mailer: MAILER_OPTIONS },
    relay: {
      listeners: [{ port: 0, host: '127.0.0.1', mode: 'starttls' }],
      tls: { dir: tlsDir },
      hostname: 'localhost',
    },
  });
  const loads = [];
  try {
    const ctx = server.context;
    const entry = await createEmailServer(ctx, testkit.config, 'bench', null);
    const entryId = entry.id ?? entry.emailServer?.id;
    const { password, hash } = generateDevicePassword();
    const at = new Date().toISOString();
    await createRelayRepository(ctx.store.db).insert({
      id: 'bench-device',
      name: 'bench',
      username: 'bench',
      password_hash: hash,
      entry_id: entryId ?? null,
      allowed_ips_json: '[]',
      allowed_senders_json: '[]',
      from_policy: 'enforce',
      max_recipients_per_message: null,
      max_recipients_per_day: null,
      max_message_bytes: null,
      enabled: 1,
      created_at: at,
      created_by: 'bench',
      updated_at: at,
      last_used_at: null,
      last_error_at: null,
      last_error: null,
    });
    const port = server.relay.status().listeners[0].port;
    const ca = readFileSync(join(tlsDir, GENERATED_CERT_FILE), 'utf8');
    const mailbox = testkit.config.user;
    const device = { port, ca, username: 'bench', password, mailbox };
    const relay = await startLoad({ mode: 'relay', clients: CLIENTS, ...device });
    const direct = await startLoad({
      mode: 'direct',
      clients: CLIENTS,
      mailbox,
      config: testkit.config,
      mailerOptions: MAILER_OPTIONS,
    });
    const printer1 = await startLoad({ mode: 'printer', clients: 1, ...device });
    const printer4 = await startLoad({ mode: 'printer', clients: CLIENTS, ...device });
    loads.push(relay, direct, printer1, printer4);

    // Warm-up: pools open, tokens fetched, JIT settled.
    await direct.run(200);
    await relay.run(200);
    await printer1.run(20);
    await printer4.run(20);
    let expected = 200 * 2 + 40;
    await untilDelivered(expected);
    await testkit.call('reset');
    await ctx.store.db.deleteFrom('outbox_messages').execute();
    expected = 0;

    // Through the relay a run is over when the testkit holds every message (250 means stored).
    async function untilDelivered(count) {
      for (;;) {
        if ((await testkit.call('count')) >= count) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const delivered = async (load, n) => {
      const started = performance.now();
      const result = await load.run(n);
      expected += n;
      await untilDelivered(expected);
      return { ...result, seconds: (performance.now() - started) / 1000 };
    };
    const relayRuns = [];
    const directRuns = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        directRuns.push(await delivered(direct, N));
        relayRuns.push(await delivered(relay, N));
      } else {
        relayRuns.push(await delivered(relay, N));
        directRuns.push(await delivered(direct, N));
      }
    }
    // The testkit has them all; the outbox records each outcome just after.
    let relayRows;
    for (;;) {
      relayRows = await ctx.store.db
        .selectFrom('outbox_messages')
        .select(['created_at', 'finished_at', 'status'])
        .execute();
      if (relayRows.every((x) => x.finished_at)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seq = await delivered(printer1, PRINTER_N);
    const par = await delivered(printer4, PRINTER_N);
    const total = await testkit.call('count');
    if (total !== 2 * ROUNDS * N + 2 * PRINTER_N)
      throw new Error(`expected ${2 * ROUNDS * N + 2 * PRINTER_N} messages at the testkit, found ${total}`);
    if (relayRows.some((x) => x.status !== 'sent')) throw new Error('a relayed message did not end sent');
    const acceptToDelivered = relayRows
      .map((x) => Date.parse(x.finished_at) - Date.parse(x.created_at))
      .sort((a, b) => a - b);

    const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const stats = (r, n) => {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      return { rate: n / r.seconds, p50: pct(sorted, 50), p99: pct(sorted, 99) };
    };
    const r = stats(best(relayRuns), N);
    const d = stats(best(directRuns), N);
    const s1 = stats(seq, PRINTER_N);
    const s4 = stats(par, PRINTER_N);
    const ratio = r.rate / d.rate;

    console.log(
      `\nSMTP relay vs core's mailer (sendRaw) — ${N} messages of ~10 KB per round, ${CLIENTS} connections, testkit limits off (own process), best of ${ROUNDS} interleaved rounds\n`,
    );
    console.log('                                   msg/s    p50 ms    p99 ms');
    const line = (label, s) =>
      console.log(
        `  ${label.padEnd(30)} ${f(s.rate).padStart(7)}   ${f(s.p50).padStart(7)}   ${f(s.p99).padStart(7)}`,
      );
    line('relay (4 connections)', r);
    line('core mailer direct (4-way)', d);
    line('printer pattern, 1 device', s1);
    line('printer pattern, 4 devices', s4);
    console.log(
      `  all rounds msg/s: relay ${relayRuns.map((x) => f(N / x.seconds)).join(', ')}; direct ${directRuns.map((x) => f(N / x.seconds)).join(', ')}`,
    );
    console.log(
      `  latency = device send → 250 (outbox commit); accept-to-delivered p50 ${pct(acceptToDelivered, 50)} ms, p99 ${pct(acceptToDelivered, 99)} ms\n`,
    );

    row({
      figure: `relay msg/s delivered (10 KB, ${CLIENTS} connections; send→250 p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms; accept→delivered p50 ${pct(acceptToDelivered, 50)} ms, p99 ${pct(acceptToDelivered, 99)} ms)`,
      ours: f(r.rate),
      comparison: `${f(d.rate)} core mailer sendRaw direct (p50 ${f(d.p50)} ms, p99 ${f(d.p99)} ms)`,
      ratio: Number(ratio.toFixed(2)),
      target: `≥ ${TARGET_RATIO}`,
      pass: ratio >= TARGET_RATIO,
    });
    row({
      figure: `relay printer pattern, 1 device, msg/s (p50 ${f(s1.p50)} ms, p99 ${f(s1.p99)} ms)`,
      ours: f(s1.rate),
      comparison: '2.5 email-oauth2-proxy (issue #17)',
      ratio: Number((s1.rate / 2.5).toFixed(1)),
      target: `≥ ${TARGET_PRINTER_SEQ} msg/s`,
      pass: s1.rate >= TARGET_PRINTER_SEQ,
    });
    row({
      figure: `relay printer pattern, 4 devices, msg/s (p50 ${f(s4.p50)} ms, p99 ${f(s4.p99)} ms)`,
      ours: f(s4.rate),
      comparison: '4.7 email-oauth2-proxy (issue #17)',
      ratio: Number((s4.rate / 4.7).toFixed(1)),
      target: `≥ ${TARGET_PRINTER_PAR} msg/s`,
      pass: s4.rate >= TARGET_PRINTER_PAR,
    });
    if (ratio < TARGET_RATIO || s1.rate < TARGET_PRINTER_SEQ || s4.rate < TARGET_PRINTER_PAR)
      process.exitCode = 1;
  } finally {
    for (const l of loads) await l.close();
    await server.close();
    await testkit.call('close');
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
