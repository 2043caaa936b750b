import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { type RunningBin, runBin, waitForOutput } from './helpers/child-process.js';
import { secretEntry } from './helpers/harness.js';

const BIN = fileURLToPath(new URL('../src/bin/server.ts', import.meta.url));
const CANARY = 'CANARY-bin-secret-5a5a5a';

function run(args: string[], env: Record<string, string>): RunningBin {
  return runBin(BIN, args, env, ['--import', 'tsx']);
}

function waitFor(output: () => string, pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  return waitForOutput(output, pattern, ms);
}

let dataDir: string | undefined;
afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('entry point: zero-setup start, one-time password printed once, graceful SIGTERM, rotate-key', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-bin-'));
  const env = { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  const first = run([], env);
  const [, password] = await waitFor(first.output, /one-time password\s+(\S+)/);
  const [, url] = await waitFor(first.output, /smtp-oauth server on (http:\/\/\S+)/);
  expect((await stat(join(dataDir, 'keys'))).mode & 0o777).toBe(0o600);
  expect((await stat(join(dataDir, 'smtp-oauth.sqlite'))).isFile()).toBe(true);

  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url! },
    body: JSON.stringify({ email: 'admin@localhost', password }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const created = await fetch(`${url}/api/email-servers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url!, cookie },
    body: JSON.stringify(secretEntry({ host: '52.96.0.10', secret: CANARY })),
  });
  expect(created.status).toBe(201);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  const out = first.output();
  expect(out.split(password!).length - 1).toBe(1);
  expect(out).not.toContain(CANARY);

  const keysBefore = await readFile(join(dataDir, 'keys'), 'utf8');
  const rotate = run(['rotate-key', '--generate', '--prune'], env);
  expect(await rotate.exited).toBe(0);
  expect(rotate.output()).toMatch(/Re-encrypted 1 secret/);
  const keysAfter = await readFile(join(dataDir, 'keys'), 'utf8');
  expect(keysAfter.trim().split('\n')).toHaveLength(1);
  expect(keysAfter).not.toBe(keysBefore);

  // Restart under the new key only: the secret is readable (an update without the secret must carry it).
  const second = run([], env);
  const [, url2] = await waitFor(second.output, /smtp-oauth server on (http:\/\/\S+)/);
  expect(second.output()).not.toMatch(/one-time password/);
  const login2 = await fetch(`${url2}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url2! },
    body: JSON.stringify({ email: 'admin@localhost', password }),
  });
  const cookie2 = login2.headers.get('set-cookie')!.split(';')[0]!;
  const list = (await (
    await fetch(`${url2}/api/email-servers`, { headers: { cookie: cookie2 } })
  ).json()) as {
    emailServers: { id: string }[];
  };
  const entry = secretEntry({ host: '52.96.0.10' });
  const update = await fetch(`${url2}/api/email-servers/${list.emailServers[0]!.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', origin: url2!, cookie: cookie2 },
    body: JSON.stringify({ ...entry, auth: { ...entry.auth, credential: { kind: 'secret' } } }),
  });
  expect(update.status).toBe(200);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 60_000);
