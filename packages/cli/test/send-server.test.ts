import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { runCli } from './helpers.js';

// The server's entry point, as an operator runs it (its sources through tsx, like its own tests).
const SERVER_BIN = fileURLToPath(new URL('../../server/src/bin/server.ts', import.meta.url));
const ADMIN_PASSWORD = 'cli-submit-admin-password';

let env: TestEnvironment | undefined;
let server: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  server?.kill('SIGKILL');
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  env = server = dir = undefined;
});

async function startServer(dataDir: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_BIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      SMTP_OAUTH_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'error',
      TOKEN_HOST_ALLOWLIST: '127.0.0.1',
      SMTP_ALLOW_PRIVATE_HOSTS: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const end = Date.now() + 60_000;
  for (;;) {
    const m = /smtp-oauth server on (http:\/\/\S+)/.exec(out);
    if (m) return m[1]!;
    if (Date.now() > end) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('send --server URL --api-key KEY: into the server’s outbox (202), --wait for the delivery, a bad key exits 3', async () => {
  env = await createTestEnvironment({ limits: false });
  dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-cli-server-'));
  const url = await startServer(join(dir, 'data'));
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: 'admin@localhost', password: ADMIN_PASSWORD }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const admin = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url, cookie },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  await admin('/api/email-servers', env.config);
  const key = (await admin('/api/api-keys', { name: 'script' })).key as string;

  const queued = await runCli(
    [
      'send',
      '--server',
      url,
      '--api-key',
      key,
      '--to',
      'a@example.com',
      '--subject',
      'from a script',
      '--text',
      '-',
    ],
    { cwd: dir, input: 'hello from cron\n', timeoutMs: 60_000 },
  );
  expect(queued.code, queued.stderr).toBe(0);
  expect(queued.stdout).toMatch(/queued <[^>]+> at http:\/\/127\.0\.0\.1:\d+ \(outbox \S+, queued\)/);
  await env.waitForMessage((m) => m.parsed.subject === 'from a script', { timeoutMs: 30_000 });

  const waited = await runCli(
    [
      'send',
      '--server',
      url,
      '--wait',
      '--json',
      '--to',
      'b@example.com',
      '--subject',
      'waited',
      '--text',
      '-',
    ],
    { cwd: dir, input: 'x\n', env: { SMTP_OAUTH_API_KEY: key }, timeoutMs: 90_000 },
  );
  expect(waited.code, waited.stderr).toBe(0);
  const result = JSON.parse(waited.stdout) as Record<string, unknown>;
  expect(result).toMatchObject({ ok: true, status: 'sent', accepted: ['b@example.com'] });
  expect(env.messages().map((m) => m.messageId)).toContain(result.messageId);

  const refused = await runCli(
    [
      'send',
      '--server',
      url,
      '--api-key',
      'smtpo_wrong',
      '--to',
      'a@example.com',
      '--subject',
      'x',
      '--text',
      '-',
    ],
    { cwd: dir, input: 'x\n', timeoutMs: 60_000 },
  );
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('INVALID_API_KEY');
  expect(refused.stderr).not.toContain('smtpo_wrong');
  const noKey = await runCli(['send', '--server', url, '--to', 'a@example.com', '--text', '-'], {
    cwd: dir,
    input: 'x\n',
  });
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain('--api-key');
}, 180_000);
