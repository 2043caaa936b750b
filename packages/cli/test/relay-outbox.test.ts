import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, output, runCli } from './helpers.js';

/**
 * `smtp-oauth relay` runs the server's relay on the server's outbox: 250 means stored in the state
 * directory's SQLite file, so neither a dead SMTP server nor `kill -9` loses an acknowledged message.
 */

let dir: string | undefined;
let env: TestEnvironment | undefined;
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  await env?.close();
  env = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

interface RunningRelay {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  output(): string;
}

async function startRelay(cwd: string, extra: string[] = []): Promise<RunningRelay> {
  const child = spawn(process.execPath, [BIN, 'relay', '--listen', '0', '--host', '127.0.0.1', ...extra], {
    cwd,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 60_000);
    const poll = setInterval(() => {
      const m = /SMTP relay on 127\.0\.0\.1:(\d+) \(starttls\)[^\n]*\nOutbox in /.exec(out);
      if (m || child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`relay exited: ${out}`));
      }
    }, 50);
  });
  return { child, port, exited, output: () => out };
}

/** One message per connection (the printer pattern), by Python smtplib; prints each DATA reply. */
function sendEach(
  cwd: string,
  stateDir: string,
  port: number,
  password: string,
  from: string,
  messageIds: string[],
): Promise<{ code: number | null; replies: string[]; err: string }> {
  const script = [
    'import smtplib, ssl, sys',
    'ctx = ssl.create_default_context(cafile=sys.argv[4])',
    'for mid in sys.argv[5:]:',
    "    msg = ('From: <%s>\\r\\nTo: office@example.com\\r\\nSubject: scan\\r\\nMessage-ID: %s\\r\\n\\r\\nscan\\r\\n' % (sys.argv[3], mid)).encode()",
    "    with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60) as s:",
    '        s.starttls(context=ctx)',
    "        s.login('printer', sys.argv[2])",
    '        s.mail(sys.argv[3])',
    "        s.rcpt('office@example.com')",
    '        code, text = s.data(msg)',
    '        print(code, text.decode(), flush=True)',
  ].join('\n');
  return new Promise((resolve) => {
    const p = spawn(
      'python3',
      ['-c', script, String(port), password, from, join(stateDir, 'relay', 'relay-cert.pem'), ...messageIds],
      { cwd },
    );
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    p.on('close', (code) => resolve({ code, replies: out.trim().split('\n').filter(Boolean), err }));
  });
}

async function workspace(): Promise<{ cwd: string; password: string }> {
  env = await createTestEnvironment();
  dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-relay-outbox-'));
  const cwd = dir;
  writeFileSync(join(cwd, 'smtp-oauth.config.json'), JSON.stringify(env.config));
  const made = await runCli(['relay', '--new-password', '--json'], { cwd });
  expect(made.code, output(made)).toBe(0);
  const { password, passwordSha256 } = JSON.parse(made.stdout) as {
    password: string;
    passwordSha256: string;
  };
  writeFileSync(
    join(cwd, 'devices.json'),
    JSON.stringify([{ name: 'Printer', username: 'printer', passwordSha256 }]),
  );
  return { cwd, password };
}

async function until(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The outbox rows as the relay's state directory holds them (read-only, beside the running relay). */
function outboxRows(stateDir: string): { status: string; attempts: number; next_attempt_at: string }[] {
  const db = new DatabaseSync(join(stateDir, 'smtp-oauth.sqlite'), { readOnly: true });
  try {
    return db.prepare('SELECT status, attempts, next_attempt_at FROM outbox_messages').all() as never;
  } finally {
    db.close();
  }
}

describe('smtp-oauth relay on the outbox', () => {
  it('kill -9 after 250 with the SMTP server down, restart with it up: every acknowledged message is delivered exactly once', async () => {
    const { cwd, password } = await workspace();
    // The email server refuses every connection for now (421: temporary, the outbox retries).
    env!.smtpServer.faults.add({
      stage: 'connect',
      reply: '421 4.3.2 Service not available',
      times: 'always',
    });
    const state = join(cwd, 'state');
    const args = ['--devices', 'devices.json', '--data-dir', 'state', '--retry-first-delay', '3000'];
    const first = await startRelay(cwd, args);
    const ids = Array.from({ length: 6 }, (_, i) => `<crash-${i}@printer.test>`);
    const sent = await sendEach(cwd, state, first.port, password, env!.mailbox, ids);
    expect(sent.code, sent.err).toBe(0);
    expect(sent.replies).toHaveLength(ids.length);
    for (const reply of sent.replies) expect(reply).toMatch(/^250 .*queued as \S+ <crash-\d@printer\.test>/);
    // Every message was tried once, failed on the dead server and waits for its retry: nothing is
    // in the middle of a send when the process dies (a send cut mid-way would end `unknown`).
    await until('every message to wait for its retry', () => {
      const rows = outboxRows(state);
      return (
        rows.length === ids.length &&
        rows.every(
          (r) =>
            r.status === 'queued' && r.attempts >= 1 && Date.parse(r.next_attempt_at) > Date.now() + 1000,
        )
      );
    });
    expect(env!.smtpServer.messages()).toHaveLength(0);
    first.child.kill('SIGKILL');
    await first.exited;

    env!.smtpServer.faults.clear();
    const second = await startRelay(cwd, args);
    expect(second.output()).toMatch(/Outbox in .*state: 6 message\(s\) queued from before/);
    await until('every message to arrive', () => env!.smtpServer.messages().length >= ids.length);
    // A late duplicate would come within a retry interval or two.
    await new Promise((r) => setTimeout(r, 8000));
    const delivered = env!.smtpServer.messages().map((m) => m.messageId);
    expect(delivered.sort()).toEqual([...ids].sort());
    expect(outboxRows(state).map((r) => r.status)).toEqual(ids.map(() => 'sent'));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('SIGTERM with a send hanging at the SMTP server exits 0 within the drain deadline', async () => {
    const { cwd, password } = await workspace();
    // The end-of-DATA reply is held far longer than the drain deadline.
    env!.smtpServer.faults.add({ stage: 'data-end', delayMs: 120_000, times: 'always' });
    // Started elsewhere: the state directory is found next to the config file, not in the cwd.
    const elsewhere = join(cwd, 'elsewhere');
    mkdirSync(elsewhere);
    const state = join(cwd, '.smtp-oauth-relay');
    const relay = await startRelay(elsewhere, [
      '--config',
      '../smtp-oauth.config.json',
      '--devices',
      '../devices.json',
      '--drain-timeout',
      '2000',
    ]);
    const sent = await sendEach(cwd, state, relay.port, password, env!.mailbox, ['<hang@printer.test>']);
    expect(sent.code, sent.err).toBe(0);
    expect(sent.replies[0]).toMatch(/^250 /);
    await until('the send to be in flight', () => outboxRows(state)[0]?.status === 'sending');
    const stoppedAt = Date.now();
    relay.child.kill('SIGTERM');
    expect(await relay.exited, relay.output()).toBe(0);
    // The drain deadline (2 s) plus start-up slack on a loaded machine; the held reply would take 120 s.
    expect(Date.now() - stoppedAt, relay.output()).toBeLessThan(60_000);
    expect(relay.output()).not.toContain(password);
    expect(existsSync(join(elsewhere, '.smtp-oauth-relay'))).toBe(false);
    // Cut after its final "." was sent: it stays in flight, and the next start makes it `unknown`
    // (the server may have it), never re-sends it unasked.
    expect(outboxRows(state)[0]?.status).toBe('sending');
  });
});
