import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, output, runCli, type Workspace, workspace } from './helpers.js';

const TENANT = 'contoso.onmicrosoft.com';
const CLIENT = '11111111-2222-3333-4444-555555555555';
const JWT = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;

let env: TestEnvironment;
let ws: Workspace;
beforeAll(async () => {
  env = await createTestEnvironment({ limits: false });
  ws = workspace(env);
  ws.write('body.txt', 'Hello from a script.\n');
}, 120_000);
afterAll(async () => {
  ws?.remove();
  await env?.close();
});

/** stdout must be exactly one JSON document, whatever the outcome. */
function oneDocument(stdout: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect(typeof doc).toBe('object');
  return doc;
}

describe('every --json output is exactly one JSON document', () => {
  const cases: [string, () => string[]][] = [
    ['token --show-token', () => [...ws.args, 'token', '--show-token']],
    ['doctor', () => [...ws.args, 'doctor']],
    ['send', () => [...ws.args, 'send', '--to', 'a@example.com', '--subject', 'json', '--text', 'body.txt']],
    ['config validate', () => [...ws.args, 'config', 'validate']],
    ['config show', () => [...ws.args, 'config', 'show']],
    [
      'config init',
      () => [
        'config',
        'init',
        '--yes',
        '--tenant',
        TENANT,
        '--client-id',
        CLIENT,
        '--mailbox',
        'noreply@contoso.com',
        '--output',
        join(ws.dir, `init-${Date.now()}.json`),
      ],
    ],
    ['token, failing (no config)', () => ['token', '--config', join(ws.dir, 'missing.json')]],
    [
      'send, failing (bad recipient)',
      () => [...ws.args, 'send', '--to', 'not-an-address', '--text', 'body.txt'],
    ],
  ];
  it.each(cases)('%s', async (name, args) => {
    const r = await runCli([...args(), '--json'], { cwd: ws.dir, env: ws.env, timeoutMs: 120_000 });
    const doc = oneDocument(r.stdout);
    if (!name.includes('failing')) expect(r.code, output(r)).toBe(0);
    expect(doc.exitCode ?? 0).toBe(r.code);
  });

  // Regression: --show-token printed a second document after the first.
  it('token --json --show-token carries the token inside the one document', async () => {
    const r = await runCli([...ws.args, 'token', '--json', '--show-token'], {
      cwd: ws.dir,
      env: ws.env,
      timeoutMs: 120_000,
    });
    expect(r.code, output(r)).toBe(0);
    const doc = oneDocument(r.stdout);
    expect(doc.accessToken).toMatch(JWT);
    expect(doc.claims).toMatchObject({ roles: ['SMTP.SendAsApp'] });
  });
});

// Regression: --ca replaced the configured tls.ca, so adding a CA broke a working entry.
it('--ca adds to the tls.ca of the config instead of replacing it', async () => {
  const other = createCertificateAuthority({ commonName: 'Unrelated CA' });
  const config = JSON.parse(readFileSync(ws.configFile, 'utf8')) as Record<string, unknown>;
  const withCa = ws.write('with-ca.json', JSON.stringify({ ...config, tls: { ca: 'file:./ca.pem' } }));
  const otherCa = ws.write('other-ca.pem', other.certificatePem);
  const r = await runCli(['--config', withCa, '--ca', otherCa, 'token', '--json'], {
    cwd: ws.dir,
    env: ws.env,
    timeoutMs: 120_000,
  });
  expect(r.code, output(r)).toBe(0);
  const sent = await runCli(
    [
      '--config',
      withCa,
      '--ca',
      otherCa,
      'send',
      '--to',
      'a@example.com',
      '--subject',
      'ca added',
      '--text',
      'body.txt',
    ],
    { cwd: ws.dir, env: ws.env, timeoutMs: 120_000 },
  );
  expect(sent.code, `${output(sent)}`).toBe(0);
});

// Regression: `doctor --verbose | head -1` died with an EPIPE stack trace.
it('a closed pipe ends the output quietly (doctor --verbose | head -1)', async () => {
  const script = `"${process.execPath}" "${BIN}" ${ws.args.map((a) => `"${a}"`).join(' ')} doctor --verbose 2>"${join(ws.dir, 'stderr.txt')}" | head -1; echo "exit \${PIPESTATUS[0]}"`;
  const r = await new Promise<{ stdout: string }>((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', HOME: ws.dir, ...ws.env },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', () => resolve({ stdout }));
  });
  const [first, status] = r.stdout.trimEnd().split('\n');
  expect(first).toContain('smtp-oauth doctor');
  expect(status).toBe('exit 0');
  const stderr = readFileSync(join(ws.dir, 'stderr.txt'), 'utf8');
  expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
}, 120_000);

/**
 * Runs `smtp-oauth config init` on a real pseudo-terminal (Python's pty module), answering each
 * prompt when its text appears; `\u0003` is Ctrl-C as typed.
 */
function onTerminal(args: string[], dialogue: [string, string][]): Promise<{ code: number; screen: string }> {
  const driver = `
import json, os, pty, select, sys, time
args, dialogue, cwd = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execv(args[0], args)
screen = b''
def read_until(pattern, deadline):
    global screen
    while pattern.encode() not in screen:
        if time.time() > deadline: raise SystemExit('timeout waiting for ' + pattern + '\\n' + screen.decode(errors='replace'))
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try: chunk = os.read(fd, 4096)
            except OSError: raise SystemExit('ended before ' + pattern + '\\n' + screen.decode(errors='replace'))
            screen += chunk
for expect, answer in dialogue:
    read_until(expect, time.time() + 90)
    screen = screen[screen.index(expect.encode()) + len(expect):] if False else screen
    mark = len(screen)
    os.write(fd, answer.encode())
    time.sleep(0.2)
while True:
    try: chunk = os.read(fd, 4096)
    except OSError: break
    if not chunk: break
    screen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': screen.decode(errors='replace')}))
`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      ['-c', driver, JSON.stringify([[process.execPath, BIN, ...args], dialogue, ws.dir])],
      {
        env: { PATH: process.env.PATH ?? '', HOME: ws.dir, TERM: 'dumb' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`terminal driver failed: ${stderr}${stdout}`));
      }
    });
  });
}

describe('interactive config init', () => {
  // Regression: the first bad answer ended the command; now the reason is shown and asked again.
  it('asks again with the reason after a bad answer, then writes the file', async () => {
    const out = join(ws.dir, 'interactive.json');
    const r = await onTerminal(
      ['config', 'init', '--output', out],
      [
        ['> ', '\r'], // service: the default (Microsoft 365)
        ['Directory (tenant) ID', 'common\r'],
        ['try again', `${TENANT}\r`],
        ['Application (client) ID', 'not-a-guid\r'],
        ['try again', `${CLIENT}\r`],
        ['> ', '\r'], // credential: the default (secret)
        ['Mailbox that sends', 'noreply\r'],
        ['try again', 'noreply@contoso.com\r'],
        ['Default From address', '\r'],
      ],
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(/cannot be used with client credentials.*; try again/);
    expect(r.screen).toMatch(/must be the Application \(client\) ID, a GUID.*; try again/);
    expect(r.screen).toMatch(/is not an email address: .*; try again/);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({
      user: 'noreply@contoso.com',
      auth: { clientId: CLIENT },
    });
  }, 180_000);

  it('Ctrl-C exits 130 without a stack trace and writes nothing', async () => {
    const out = join(ws.dir, 'cancelled.json');
    const r = await onTerminal(
      ['config', 'init', '--output', out],
      [
        ['> ', '\r'],
        ['Directory (tenant) ID', '\u0003'],
      ],
    );
    expect(r.code, r.screen).toBe(130);
    expect(r.screen).not.toMatch(/Error|\n\s+at /);
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});

it('batch --json lists each sent row with its Message-ID, as the server received it', async () => {
  const tag = `batch-ids-${Date.now()}`;
  const csv = ws.write('ids.csv', 'to,n\na@example.com,1\nb@example.com,2\n');
  const r = await runCli(
    [...ws.args, 'send', '--json', '--batch', csv, '--subject', `${tag} {{n}}`, '--text', 'body.txt'],
    { cwd: ws.dir, env: ws.env, timeoutMs: 120_000 },
  );
  expect(r.code, output(r)).toBe(0);
  const doc = oneDocument(r.stdout) as { sentRows: { row: number; messageId: string }[] };
  expect(doc.sentRows.map((s) => s.row)).toEqual([1, 2]);
  for (const { row, messageId } of doc.sentRows) {
    const stored = await env.waitForMessage((m) => m.parsed.subject === `${tag} ${row}`);
    expect(stored.parsed.messageId).toBe(messageId);
  }
}, 180_000);
