// §1 "nothing ends without settling": the README's library example runs in a child process against
// the built package, with faults on the token endpoint and the SMTP server. Before the fix, the
// waits (retry backoff, token retry) used unref'd timers and Node ended the process mid-send: no
// catch, no finally, exit 13. Regression tests for each fault of that kind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, EXCHANGE_FAULT_REPLIES, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('./fixtures/readme-example.mjs', import.meta.url));

function runExample(configPath: string, env: Record<string, string>) {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`pnpm --filter @org/core build\` first`);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE, configPath], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`example timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('the README library example settles under every fault (child process, built code)', () => {
  let env: TestEnvironment;
  let dir: string;
  const write = (overrides: Record<string, unknown> = {}) => {
    const path = join(dir, `entry-${Math.random().toString(36).slice(2)}.json`);
    const entry = {
      ...env.config,
      ...overrides,
      auth: { ...env.config.auth, credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' } },
    };
    writeFileSync(path, JSON.stringify(entry));
    return path;
  };
  const secretEnv = () => ({ SMTP_OAUTH_CLIENT_SECRET: env.clientSecret });

  beforeAll(async () => {
    env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    dir = mkdtempSync(join(tmpdir(), 'exit-behaviour-'));
  });
  afterAll(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => env.reset());

  it.each([
    ['the token endpoint answers 503 once', { type: 'status', status: 503 }],
    ['the token endpoint answers 429 with Retry-After: 1', { type: 'status', status: 429, retryAfter: 1 }],
    ['the token endpoint resets one connection', { type: 'reset' }],
  ] as const)('%s → the send succeeds and finally runs', async (_name, action) => {
    env.faults.token.add({ action });
    const r = await runExample(write(), secretEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sent <.+>: 250 2\.0\.0 OK/m);
    expect(r.stdout).toContain('finally');
    expect(env.messages()).toHaveLength(1);
  });

  it.each([
    [
      'one 421 at connect',
      { stage: 'connect', reply: EXCHANGE_FAULT_REPLIES.serviceNotAvailable, disconnect: true },
    ],
    [
      '432 4.3.2 at AUTH with no other socket open',
      { stage: 'auth', reply: EXCHANGE_FAULT_REPLIES.concurrentConnectionsLimit },
    ],
  ] as const)('%s → retried, the send succeeds and finally runs', async (_name, fault) => {
    env.faults.smtp.add({ ...fault });
    const r = await runExample(write(), secretEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('finally');
    expect(env.messages()).toHaveLength(1);
  });

  it('the SMTP port closed → catch runs with NETWORK_CONNECT after the retries, then finally', async () => {
    const r = await runExample(write({ port: await closedPort() }), secretEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^NETWORK_CONNECT: Cannot connect to 127\.0\.0\.1 \(ECONNREFUSED\)/m);
    expect(r.stdout).toContain('finally');
  });

  it('the token endpoint down (503 always) → catch runs with TOKEN_SERVICE_UNAVAILABLE, then finally', async () => {
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    const r = await runExample(write(), secretEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^TOKEN_SERVICE_UNAVAILABLE: /m);
    expect(r.stdout).toContain('finally');
  });
});
