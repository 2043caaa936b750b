// The device side of relay.mjs, in a worker thread for every measurement, so the clients never
// share a thread with the relay (or with core's mailer in the direct comparison).
// Modes:
// - 'relay': 4 SMTP clients (nodemailer pool: connect, STARTTLS, AUTH once, then message after message);
// - 'direct': the same 4-way concurrency calling core's mailer sendRaw in-process (an application
//   that embeds core instead of going through the relay) with the same MIME bytes;
// - 'printer': every message on a new connection (connect, STARTTLS, AUTH, one message, QUIT),
//   `clients` devices at once.
// Protocol: → { total }; ← { seconds, latencies } (ms from the send call to the 250 / resolve).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import nodemailer from 'nodemailer';

const { mode, clients, mailbox } = workerData;
const filler = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.'.repeat(1)}\r\n`;
const body = filler.repeat(Math.ceil(10_000 / filler.length)); // ~10 KB
const run = randomBytes(4).toString('hex');
const messageFor = (i) => {
  const raw = Buffer.from(
    [
      `From: Bench <${mailbox}>`,
      `To: recipient${i % 50}@example.com`,
      `Subject: Relay benchmark ${i}`,
      `Message-ID: <${run}-${mode}-${i}@bench.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
  return { raw, envelope: { from: mailbox, to: [`recipient${i % 50}@example.com`] } };
};

const smtpOptions = () => ({
  host: '127.0.0.1',
  port: workerData.port,
  secure: false,
  requireTLS: true,
  auth: { user: workerData.username, pass: workerData.password },
  tls: { ca: workerData.ca, servername: 'localhost' },
});

let job;
let close = async () => {};
if (mode === 'relay') {
  const transport = nodemailer.createTransport({
    ...smtpOptions(),
    pool: true,
    maxConnections: clients,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  job = async (i) => {
    const info = await transport.sendMail(messageFor(i));
    if (!/^250 /.test(info.response)) throw new Error(`relay answered ${info.response}`);
  };
  close = async () => transport.close();
} else if (mode === 'printer') {
  job = async (i) => {
    // A new transport per message: connect, STARTTLS, AUTH, one message, QUIT.
    const transport = nodemailer.createTransport(smtpOptions());
    try {
      await transport.sendMail(messageFor(i));
    } finally {
      transport.close();
    }
  };
} else {
  const { createMailer, parseConfig } = await import('@org/core');
  const parsed = parseConfig(workerData.config);
  if (!parsed.ok) throw new Error('testkit config does not validate');
  const mailer = createMailer(parsed.config, workerData.mailerOptions);
  job = async (i) => {
    const m = messageFor(i);
    await mailer.sendRaw({ raw: m.raw, envelope: m.envelope });
  };
  close = () => mailer.close();
}

let offset = 0;
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
    const start = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total) {
          const i = offset + next++;
          const t0 = performance.now();
          await job(i);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    offset += total;
    parentPort.postMessage({ seconds: (performance.now() - start) / 1000, latencies });
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
