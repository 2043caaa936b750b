import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import type { CreateServerOptions } from '../../src/server.js';
import { GENERATED_CERT_FILE } from '../../src/relay/tls.js';
import type { Driver } from './drivers.js';
import { type Harness, type Json, json, startHarness } from './harness.js';

/** A server with the relay on two loopback listeners (STARTTLS and implicit TLS) and an entry for the testkit. */
export interface RelayFixture {
  env: TestEnvironment;
  h: Harness;
  entryId: string;
  /** The STARTTLS and the implicit-TLS listener's ports. */
  ports: { starttls: number; tls: number };
  /** The relay's certificate (PEM) and its file, for clients that verify it. */
  certPem: string;
  certFile: string;
  close(): Promise<void>;
}

export async function startRelayFixture(
  driver: Driver,
  options: {
    relay?: Partial<NonNullable<CreateServerOptions['relay']>>;
    limits?: false;
    server?: Partial<Omit<CreateServerOptions, 'store'>>;
  } = {},
): Promise<RelayFixture> {
  const env = await createTestEnvironment(options.limits === false ? { limits: false } : {});
  const tlsDir = await mkdtemp(join(tmpdir(), 'relay-tls-'));
  let h: Harness | undefined;
  try {
    h = await startHarness(driver, {
      now: () => new Date(env.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      relay: {
        listeners: [
          { port: 0, host: '127.0.0.1', mode: 'starttls' },
          { port: 0, host: '127.0.0.1', mode: 'tls' },
        ],
        tls: { dir: tlsDir },
        hostname: 'relay.test',
        ...options.relay,
      },
      ...options.server,
    });
    await h.login();
    const created = await h.api('/api/email-servers', { body: env.config });
    if (created.status !== 201) throw new Error(`entry not created: ${await created.text()}`);
    const entryId = (await json(created)).emailServer.id as string;
    const status = h.server.relay!.status();
    const port = (mode: string) => status.listeners.find((l) => l.mode === mode)?.port ?? 0;
    const { readFileSync } = await import('node:fs');
    const certFile = join(tlsDir, GENERATED_CERT_FILE);
    const harness = h;
    return {
      env,
      h,
      entryId,
      ports: { starttls: port('starttls'), tls: port('tls') },
      certPem: readFileSync(certFile, 'utf8'),
      certFile,
      async close() {
        await harness.close();
        await env.close();
        await rm(tlsDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await h?.close();
    await env.close();
    await rm(tlsDir, { recursive: true, force: true });
    throw error;
  }
}

/** Creates a device through the admin API; returns it with its one-time password. */
export async function createDevice(
  h: Harness,
  body: Record<string, unknown>,
): Promise<{ id: string; username: string; password: string; device: Json }> {
  const res = await h.api('/api/relay/devices', { body });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`device not created (${res.status}): ${text}`);
  const parsed = JSON.parse(text) as Json;
  return {
    id: parsed.device.id,
    username: parsed.device.username,
    password: parsed.password,
    device: parsed.device,
  };
}

/** Runs a program we did not write; resolves with its exit code and output (never rejects on exit code). */
export function run(
  file: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * A MIME message with a quoted-printable UTF-8 text part, an HTML part and a binary attachment
 * (random bytes, base64) — CRLF line endings. `from` is the header From.
 */
export function mimeMessage(options: {
  from: string;
  to: string;
  subject: string;
  messageId?: string;
  attachment?: Buffer;
  /** Extra header lines (without line ending). */
  headers?: string[];
}): { raw: Buffer; attachment: Buffer } {
  const attachment = options.attachment ?? randomBytes(3000);
  const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  const boundary = `b-${randomBytes(6).toString('hex')}`;
  const lines = [
    `From: Device <${options.from}>`,
    `To: ${options.to}`,
    `Subject: ${options.subject}`,
    ...(options.messageId ? [`Message-ID: ${options.messageId}`] : []),
    'Date: Sun, 29 Nov 2026 10:00:00 +0000',
    ...(options.headers ?? []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Scan from the printer on floor 2 =E2=80=93 gr=C3=BC=C3=9Fe.',
    '.a line that starts with a dot',
    '',
    `--${boundary}`,
    'Content-Type: application/pdf; name="scan.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="scan.pdf"',
    '',
    b64,
    `--${boundary}--`,
    '',
  ];
  return { raw: Buffer.from(lines.join('\r\n'), 'latin1'), attachment };
}

/** A minimal SMTP client on a raw socket: what a legacy device does, byte by byte. */
export interface RawSmtp {
  /** Sends bytes as is. */
  write(data: string | Buffer): void;
  /** Resolves with the next complete reply (multi-line replies joined), e.g. `250 …`. */
  reply(): Promise<string>;
  /** Upgrades to TLS (after `220` to STARTTLS). */
  starttls(ca: string): Promise<void>;
  close(): void;
}

export async function rawSmtp(port: number, options: { tls?: { ca: string } } = {}): Promise<RawSmtp> {
  let socket: Socket = options.tls
    ? tlsConnect({ host: '127.0.0.1', port, ca: options.tls.ca, servername: 'localhost' })
    : netConnect({ host: '127.0.0.1', port });
  let buffer = '';
  const waiting: Array<(line: string) => void> = [];
  const ready: string[] = [];
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let lines: string[] = [];
    for (;;) {
      const eol = buffer.indexOf('\r\n');
      if (eol === -1) break;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      lines.push(line);
      if (line[3] !== '-') {
        const reply = lines.join('\n');
        lines = [];
        const w = waiting.shift();
        if (w) w(reply);
        else ready.push(reply);
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const api: RawSmtp = {
    write: (data) => {
      socket.write(data);
    },
    reply: () =>
      new Promise((resolve, reject) => {
        const r = ready.shift();
        if (r !== undefined) return resolve(r);
        const timer = setTimeout(() => reject(new Error('no SMTP reply within 30 s')), 30_000);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(line);
        });
      }),
    async starttls(ca) {
      socket.off('data', onData);
      const secure = tlsConnect({ socket, ca, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
      secure.on('data', onData);
      secure.on('error', () => {});
      socket = secure;
    },
    close() {
      socket.destroy();
    },
  };
  return api;
}

/**
 * The relay answers 250 once the outbox committed the message; delivery follows. Waits (bounded)
 * until the testkit holds `count` messages and returns them.
 */
export async function delivered(env: TestEnvironment, count: number, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (env.messages().length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return env.messages();
}

/** The outbox row named by a relay reply (`250 … queued as <id> <message-id>`), once it is finished or retried. */
export async function outboxRowOf(
  h: Harness,
  reply: string,
  done: (row: { status: string; attempts: number }) => boolean,
  timeoutMs = 30_000,
): Promise<{
  message: Record<string, unknown> & { status: string; lastCode: string | null; lastReply: string | null };
  attempts: unknown[];
}> {
  const id = /queued as (\S+)/.exec(reply)?.[1];
  if (!id) throw new Error(`not an acceptance: ${reply}`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = (await (await h.api(`/api/messages/${id}`)).json()) as Awaited<
      ReturnType<typeof outboxRowOf>
    >;
    if (done(found.message as never) || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
