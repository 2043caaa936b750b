// §1 of "core under real faults", at the CLI: the built `smtp-oauth` in a child process exits with
// its documented code and prints the error under each fault (before the fix: exit 13, no output),
// and `send --batch` always writes its summary and a retry file that resends what was printed.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createTestEnvironment, EXCHANGE_FAULT_REPLIES, type TestEnvironment } from '@org/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { output, runCli, type Workspace, workspace } from './helpers.js';

let env: TestEnvironment;
let ws: Workspace;
beforeAll(async () => {
  env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.reset());
afterEach(() => ws?.remove());

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const send = (w: Workspace, extra: string[] = []) =>
  runCli(
    [
      ...w.args,
      'send',
      '--to',
      'a@example.com',
      '--subject',
      's',
      '--text',
      w.write('body.txt', 'body\n'),
      ...extra,
    ],
    {
      cwd: w.dir,
      env: w.env,
      timeoutMs: 90_000,
    },
  );

describe('smtp-oauth send under faults (built binary, child process)', () => {
  it.each([
    ['token endpoint 503 once', { type: 'status', status: 503 }],
    ['token endpoint 429 Retry-After: 1', { type: 'status', status: 429, retryAfter: 1 }],
    ['token endpoint resets one connection', { type: 'reset' }],
  ] as const)('%s → sent, exit 0', async (_n, action) => {
    ws = workspace(env);
    env.faults.token.add({ action });
    const r = await send(ws);
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toMatch(/^✓ sent <.+> to a@example\.com$/m);
  });

  it.each([
    [
      'one 421 at connect',
      { stage: 'connect', reply: EXCHANGE_FAULT_REPLIES.serviceNotAvailable, disconnect: true },
    ],
    ['432 at AUTH', { stage: 'auth', reply: EXCHANGE_FAULT_REPLIES.concurrentConnectionsLimit }],
  ] as const)('%s → retried, sent, exit 0', async (_n, fault) => {
    ws = workspace(env);
    env.faults.smtp.add({ ...fault });
    const r = await send(ws);
    expect(r.code, output(r)).toBe(0);
    expect(env.messages()).toHaveLength(1);
  });

  it('the token endpoint down → exit 4 with TOKEN_SERVICE_UNAVAILABLE and its hint', async () => {
    ws = workspace(env);
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    const r = await send(ws);
    expect(r.code, output(r)).toBe(4);
    expect(r.stderr).toMatch(/^error TOKEN_SERVICE_UNAVAILABLE: /m);
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it('the SMTP port closed → exit 4 with NETWORK_CONNECT, after the retries', async () => {
    ws = workspace(env);
    const entry = JSON.parse(readFileSync(ws.configFile, 'utf8')) as Record<string, unknown>;
    const broken = ws.write('broken.json', JSON.stringify({ ...entry, port: await closedPort() }));
    const r = await runCli(
      [
        '--config',
        broken,
        '--ca',
        ws.args[3] as string,
        'send',
        '--to',
        'a@example.com',
        '--text',
        ws.write('b.txt', 'x'),
      ],
      {
        cwd: ws.dir,
        env: ws.env,
        timeoutMs: 90_000,
      },
    );
    expect(r.code, output(r)).toBe(4);
    expect(r.stderr).toMatch(/^error NETWORK_CONNECT: Cannot connect to 127\.0\.0\.1 \(ECONNREFUSED\)/m);
  });

  it('connection lost after the final dot → exit 6 SMTP_OUTCOME_UNKNOWN, not resent', async () => {
    ws = workspace(env);
    env.faults.smtp.add({ stage: 'data-end', dropReply: true });
    const r = await send(ws);
    expect(r.code, output(r)).toBe(6);
    expect(r.stderr).toMatch(/^error SMTP_OUTCOME_UNKNOWN: /m);
    expect(env.messages()).toHaveLength(1);
  });
});

describe('smtp-oauth send --batch under faults', () => {
  it('the SMTP port closed → summary, retry file, exit 4', async () => {
    ws = workspace(env);
    const entry = JSON.parse(readFileSync(ws.configFile, 'utf8')) as Record<string, unknown>;
    const broken = ws.write('broken.json', JSON.stringify({ ...entry, port: await closedPort() }));
    const csv = ws.write('rows.csv', 'to,name\nx@example.com,X\ny@example.com,Y\n');
    const r = await runCli(
      [
        '--config',
        broken,
        '--ca',
        ws.args[3] as string,
        'send',
        '--batch',
        csv,
        '--subject',
        'Hi {{name}}',
        '--text',
        ws.write('b.txt', 'Dear {{name}}'),
      ],
      {
        cwd: ws.dir,
        env: ws.env,
        timeoutMs: 120_000,
      },
    );
    expect(r.code, output(r)).toBe(4);
    expect(r.stdout).toContain('sent 0 of 2, failed 2');
    expect(r.stdout).toContain('NETWORK_CONNECT × 2');
    expect(existsSync(`${ws.dir}/rows.failed.csv`)).toBe(true);
  });

  // Regression (issue 16 §4): the printed retry command resent blank mail — the retry file had no
  // subject or body, those were command-line options of the first run.
  it('running the printed retry command resends the failed row with its subject, body and From', async () => {
    ws = workspace(env);
    const tag = Math.random().toString(36).slice(2, 8);
    const csv = ws.write('rows.csv', 'to,name\nx@example.com,Xena\ny@example.com,Yuri\nz@example.com,Zoe\n');
    env.faults.smtp.add({ stage: 'data-end', reply: EXCHANGE_FAULT_REPLIES.mailboxFull, nth: 2 });
    const body = ws.write('body.txt', 'Dear {{name}},\nline two.\n');
    const first = await runCli(
      [
        ...ws.args,
        'send',
        '--batch',
        csv,
        '--subject',
        `${tag} for {{name}}`,
        '--text',
        body,
        '--from',
        env.mailbox,
      ],
      {
        cwd: ws.dir,
        env: ws.env,
      },
    );
    expect(first.code, output(first)).toBe(5);
    expect(first.stdout).toContain('sent 2 of 3, failed 1');
    const printed = /retry the failed rows with: (.+)$/m.exec(first.stdout)?.[1];
    expect(printed).toBeDefined();
    const [bin, ...args] = (printed as string).split(' ');
    expect(bin).toBe('smtp-oauth');
    const sentBefore = new Set(env.messages().map((m) => m.messageId));
    const again = await runCli(args, { cwd: ws.dir, env: ws.env });
    expect(again.code, output(again)).toBe(0);
    expect(again.stdout).toContain('sent 1 of 1, failed 0');
    const resent = env.messages().filter((m) => !sentBefore.has(m.messageId));
    expect(resent).toHaveLength(1);
    const parsed = await resent[0]?.parse();
    const name = parsed?.subject?.replace(`${tag} for `, '');
    expect(['Xena', 'Yuri', 'Zoe']).toContain(name);
    expect(parsed?.text).toBe(`Dear ${name},\nline two.\n`);
    expect(parsed?.from[0]?.address).toBe(env.mailbox);
  });

  it('a row whose outcome is unknown keeps its Message-ID in the retry file; exit 6', async () => {
    ws = workspace(env);
    const csv = ws.write('rows.jsonl', `${JSON.stringify({ to: 'q@example.com' })}\n`);
    env.faults.smtp.add({ stage: 'data-end', dropReply: true });
    const r = await runCli(
      [...ws.args, 'send', '--batch', csv, '--subject', 'u', '--text', ws.write('b.txt', 'x')],
      {
        cwd: ws.dir,
        env: ws.env,
      },
    );
    expect(r.code, output(r)).toBe(6);
    const row = JSON.parse(readFileSync(`${ws.dir}/rows.failed.jsonl`, 'utf8').trim()) as Record<
      string,
      string
    >;
    expect(row.error_code).toBe('SMTP_OUTCOME_UNKNOWN');
    expect(row.message_id).toBe(env.messages()[0]?.messageId);
    expect(row.subject).toBe('u');
    // Resending it carries the same Message-ID: the recipient can recognise the duplicate.
    const again = await runCli([...ws.args, 'send', '--batch', `${ws.dir}/rows.failed.jsonl`], {
      cwd: ws.dir,
      env: ws.env,
    });
    expect(again.code, output(again)).toBe(0);
    expect(env.messages().map((m) => m.messageId)).toEqual([row.message_id, row.message_id]);
  });
});
