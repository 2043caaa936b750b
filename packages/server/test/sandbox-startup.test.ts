import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { type RunningBin, runBin, waitForOutput } from './helpers/child-process.js';

// The README's first command ends in `pnpm sandbox` = the BUILT bin with --sandbox. This runs that
// start-up path headlessly, as a newcomer would use it: read what it prints, sign in, diagnose,
// send, and find the message in the sandbox.
const BIN = fileURLToPath(new URL('../dist/bin/server.js', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Json = Record<string, any>;

function run(env: Record<string, string>): RunningBin {
  return runBin(BIN, ['--sandbox'], env);
}

function waitFor(output: () => string, pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  return waitForOutput(output, pattern, ms);
}

let dataDir: string | undefined;
let proc: ReturnType<typeof run> | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('sandbox start-up: printed URL and credentials work; diagnose is green; sent mail is in the sandbox', async () => {
  expect(existsSync(BIN), 'build the server first: pnpm --filter @org/server build').toBe(true);
  dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-sandbox-'));
  proc = run({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const out = proc.output;
  const [, url] = await waitFor(out, /WebAdmin\s+(http:\/\/\S+)/);
  const [, email] = await waitFor(out, /Sign in\s+(\S+)/);
  const [, password] = await waitFor(out, /Password\s+(\S+)/);
  const [, messagesUrl] = await waitFor(out, /Sent mail\s+(http:\/\/\S+\/api\/messages)/);
  const [, curl] = await waitFor(out, /(curl -sS \S+\/api\/send .+)/);
  const [, apiKey] = await waitFor(out, /API key\s+(smtpo_\S+)/);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(url).not.toMatch(/:0$/);
  expect(curl).toContain(`${url}/api/send`);

  // The WebAdmin is served at the printed URL (@org/admin-ui's build).
  const page = await fetch(url!);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);

  // Sign in through the API, as the WebAdmin does.
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url! },
    body: JSON.stringify({ email, password }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', origin: url!, cookie },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  const { body: list } = await admin('/api/email-servers');
  expect(list.emailServers).toHaveLength(1);
  const entry = list.emailServers[0];
  expect(entry).toMatchObject({ name: 'Sandbox (Microsoft 365 emulator)', isDefault: true });

  const diagnosis = await admin(`/api/email-servers/${entry.id}/diagnose`, {});
  expect(diagnosis.status).toBe(200);
  expect(
    diagnosis.body.steps.filter((s: Json) => s.status !== 'ok' && s.status !== 'skipped'),
    JSON.stringify(diagnosis.body.steps),
  ).toEqual([]);
  expect(diagnosis.body.ok).toBe(true);

  const test = await admin(`/api/email-servers/${entry.id}/send-test`, { to: 'newcomer@example.com' });
  expect(test.status, JSON.stringify(test.body)).toBe(200);

  // The printed curl example, as an application would send it.
  const sent = await fetch(`${url}/api/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'app-user@example.com', subject: 'Hello from the sandbox', text: 'hi' }),
  });
  // Accepted into the outbox (202), delivered right after.
  expect(sent.status).toBe(202);
  const { messageId } = (await sent.json()) as Json;

  let text = '';
  for (let i = 0; i < 200 && !text.includes('Hello from the sandbox'); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    const messages = (await (await fetch(messagesUrl!)).json()) as Json;
    const items: Json[] = Array.isArray(messages) ? messages : (messages.messages ?? messages.items ?? []);
    text = JSON.stringify(items);
  }
  expect(text).toContain('smtp-oauth test message');
  expect(text).toContain('Hello from the sandbox');
  expect(text).toContain(messageId.replace(/[<>]/g, ''));

  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  // The password is printed for the newcomer; no other secret or token reaches the console.
  expect(out()).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);

  // A second start on the same data directory: still one entry (seeded idempotently), new
  // credentials that work, and the previous start's API key revoked.
  proc = run({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const again = proc.output;
  const [, url2] = await waitFor(again, /WebAdmin\s+(http:\/\/\S+)/);
  const [, password2] = await waitFor(again, /Password\s+(\S+)/);
  const [, apiKey2] = await waitFor(again, /API key\s+(smtpo_\S+)/);
  expect(password2).not.toBe(password);
  const login2 = await fetch(`${url2}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url2! },
    body: JSON.stringify({ email, password: password2 }),
  });
  expect(login2.status).toBe(200);
  const cookie2 = login2.headers.get('set-cookie')!.split(';')[0]!;
  const list2 = (await (
    await fetch(`${url2}/api/email-servers`, { headers: { cookie: cookie2 } })
  ).json()) as Json;
  expect(list2.emailServers.map((e: Json) => [e.name, e.isDefault])).toEqual([
    ['Sandbox (Microsoft 365 emulator)', true],
  ]);
  const sendWith = (key: string) =>
    fetch(`${url2}/api/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'a@example.com', subject: 'second start' }),
    });
  expect((await sendWith(apiKey!)).status).toBe(401);
  expect((await sendWith(apiKey2!)).status).toBe(202);
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
}, 90_000);
