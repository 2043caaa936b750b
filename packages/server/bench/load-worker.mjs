// The application side of send-api.ts, in a worker thread for BOTH measurements:
// - mode 'http': 8 HTTP clients (keep-alive) posting to the server's POST /api/send;
// - mode 'direct': the same 8-way concurrency calling core's mailer in-process (an application
//   that embeds core instead of calling the server).
// The messages are built here, identically for both modes. The worker lives for the whole run so
// its connections (HTTP keep-alive or the mailer's SMTP pool) stay warm between rounds, as the
// server's pooled mailer does.
// Protocol: → { total }; ← { seconds, latencies, busyMs, cpuMs? }: this thread's event-loop busy time
// and, on Linux, its CPU time.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { mode, clients, body } = workerData;
const messageFor = (i) => ({
  to: `recipient${i % 50}@example.com`,
  subject: `Benchmark message ${i}`,
  text: body,
});

/** CPU time (ms) of the calling thread, from /proc (Linux); undefined elsewhere. */
function threadCpuMs() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}

let job;
let close = async () => {};
if (mode === 'http') {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const target = new URL(workerData.url);
  const headers = {
    authorization: `Bearer ${workerData.key}`,
    'content-type': 'application/json',
    ...workerData.headers,
  };
  // POST /api/send answers 202 (stored) by default, 200 with `Prefer: wait`; a bare route 201.
  const expected = workerData.expectStatus ?? 200;
  job = (i) =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(messageFor(i));
      const req = request(
        target,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === expected
              ? resolve()
              : reject(
                  new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`),
                ),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  close = async () => agent.destroy();
} else {
  const { createMailer, parseConfig } = await import('@org/core');
  const parsed = parseConfig(workerData.config);
  if (!parsed.ok) throw new Error('testkit config does not validate');
  // The server's mailers get exactly these options from the benchmark (runtime.mailer).
  const mailer = createMailer(parsed.config, workerData.mailerOptions);
  job = async (i) => {
    await mailer.send(messageFor(i));
  };
  close = () => mailer.close();
}

parentPort.on('message', async (msg) => {
  if (msg.close) {
    await close();
    parentPort.close();
    return;
  }
  try {
    const { total } = msg;
    const latencies = [];
    let next = 0;
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = threadCpuMs();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total) {
          const i = next++;
          const t0 = performance.now();
          await job(i);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const elu = performance.eventLoopUtilization(elu0);
    const cpu1 = threadCpuMs();
    parentPort.postMessage({
      seconds,
      latencies,
      busyMs: elu.active,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuMs: cpu1 - cpu0 } : {}),
    });
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
