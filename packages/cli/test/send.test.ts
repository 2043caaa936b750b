import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { output, runCli, type Workspace, workspace } from './helpers.js';

// Sending does not change the directory, so one environment serves these tests; each test has its
// own workspace and a unique subject to find its message.
let env: TestEnvironment;
let ws: Workspace;
beforeAll(async () => {
  env = await createTestEnvironment();
});
afterAll(async () => {
  await env?.close();
});
afterEach(() => ws?.remove());

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 10)}`;

describe('smtp-oauth send', () => {
  it('sends one message with the body from a file', async () => {
    ws = workspace(env);
    const subject = unique('Disk full');
    const body = ws.write('report.txt', 'Volume /data is 97% full.\n');
    const r = await runCli(
      [...ws.args, 'send', '--to', 'ops@example.com', '--subject', subject, '--text', body],
      {
        cwd: ws.dir,
        env: ws.env,
      },
    );
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toMatch(/^✓ sent <.+> to ops@example\.com$/m);
    expect(r.stdout).toMatch(/250 2\.0\.0 OK/);
    const msg = await env.waitForMessage((m) => m.parsed.subject === subject);
    expect(msg.parsed.text?.trim()).toBe('Volume /data is 97% full.');
    expect(msg.envelope.rcptTo).toEqual(['ops@example.com']);
    expect(msg.identity.mailbox).toBe(env.mailbox);
  });

  it('reads the body from stdin, and prints --json', async () => {
    ws = workspace(env);
    const subject = unique('From stdin');
    const r = await runCli(
      [
        ...ws.args,
        'send',
        '--json',
        '--to',
        'a@example.com,b@example.com',
        '--cc',
        'c@example.com',
        '--subject',
        subject,
      ],
      {
        cwd: ws.dir,
        env: ws.env,
        input: 'Hello from stdin\n',
      },
    );
    expect(r.code, output(r)).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      ok: true,
      accepted: ['a@example.com', 'b@example.com', 'c@example.com'],
      rejected: [],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 OK/);
    const msg = await env.waitForMessage((m) => m.parsed.subject === subject);
    expect(msg.parsed.text?.trim()).toBe('Hello from stdin');
    expect(msg.parsed.cc.map((a) => a.address)).toEqual(['c@example.com']);
  });

  it('attaches files and sends an HTML body', async () => {
    ws = workspace(env);
    const subject = unique('Invoice');
    const pdf = ws.write(
      'invoice.pdf',
      new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0x0a, 0xff, 0x00]),
    );
    const html = ws.write('body.html', '<p>Your <b>invoice</b> is attached.</p>');
    const r = await runCli(
      [
        ...ws.args,
        'send',
        '--to',
        'customer@example.com',
        '--subject',
        subject,
        '--html',
        html,
        '--attach',
        pdf,
      ],
      { cwd: ws.dir, env: ws.env },
    );
    expect(r.code, output(r)).toBe(0);
    const msg = await env.waitForMessage((m) => m.parsed.subject === subject);
    expect(msg.parsed.html).toContain('<b>invoice</b>');
    expect(msg.parsed.attachments).toHaveLength(1);
    expect(msg.parsed.attachments[0]?.filename).toBe('invoice.pdf');
    expect([...(msg.parsed.attachments[0]?.content ?? [])]).toEqual([
      0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0x0a, 0xff, 0x00,
    ]);
  });

  it('a CSV batch with one failing row: summary with codes, a retry file in the same format, exit 3', async () => {
    ws = workspace(env);
    const tag = unique('batch');
    const other = `shared-${Math.random().toString(36).slice(2, 8)}@${env.tenantDomain}`;
    env.directory.addMailbox(env.tenantId, other); // exists, but the app has no SendAs on it
    const csv = ws.write(
      'invoices.csv',
      [
        'to,name,number,from',
        `alice@example.com,Alice,1001,`,
        `bob@example.com,"Bob ""the builder""",1002,${other}`,
        `carol@example.com,Carol,1003,`,
      ].join('\n'),
    );
    const body = ws.write('body.txt', 'Dear {{name}},\nyour invoice {{number}} is ready.\n');
    const r = await runCli(
      [...ws.args, 'send', '--batch', csv, '--subject', `${tag} invoice {{number}}`, '--text', body],
      { cwd: ws.dir, env: ws.env },
    );
    expect(r.code, output(r)).toBe(3);
    expect(r.stdout).toContain('sent 2 of 3, failed 1');
    expect(r.stdout).toContain('SMTP_SEND_AS_DENIED × 1');
    expect(r.stdout).toMatch(/line 3 bob@example\.com: SMTP_SEND_AS_DENIED/);
    const retry = join(ws.dir, 'invoices.failed.csv');
    expect(r.stdout).toContain(`smtp-oauth send --batch ${retry}`);
    const retryText = readFileSync(retry, 'utf8');
    const [header, row, ...rest] = retryText.trimEnd().split('\r\n');
    // Self-contained: the subject and body templates of the command line ride along (unrendered).
    expect(header).toBe('to,name,number,from,subject,text,error_code,error_message');
    expect(
      row?.startsWith(`bob@example.com,"Bob ""the builder""",1002,${other},${tag} invoice {{number}},`),
    ).toBe(true);
    expect(row).toContain('"Dear {{name}},\nyour invoice {{number}} is ready.\n",SMTP_SEND_AS_DENIED,');
    expect(row).toMatch(/SMTP_SEND_AS_DENIED,"?SMTP server replied: 554 5\.2\.252 SendAsDenied/);
    expect(rest).toEqual([]);
    const alice = await env.waitForMessage((m) => m.parsed.subject === `${tag} invoice 1001`);
    expect(alice.parsed.text).toContain('Dear Alice,\nyour invoice 1001 is ready.');
    await env.waitForMessage((m) => m.parsed.subject === `${tag} invoice 1003`);
  });

  it('a JSONL batch with --json: per-row templating, summary document, no retry file when all succeed', async () => {
    ws = workspace(env);
    const tag = unique('jsonl');
    const file = ws.write(
      'rows.jsonl',
      `${JSON.stringify({ to: ['d@example.com'], who: 'Dana', subject: `${tag} for {{who}}` })}\n${JSON.stringify({ to: 'e@example.com', who: '<Eve>', subject: `${tag} for {{who}}` })}\n`,
    );
    const html = ws.write('b.html', '<p>Hi {{who}}</p>');
    const r = await runCli([...ws.args, 'send', '--json', '--batch', file, '--html', html], {
      cwd: ws.dir,
      env: ws.env,
    });
    expect(r.code, output(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      exitCode: 0,
      total: 2,
      sent: 2,
      failed: 0,
      failures: [],
      sentRows: [
        { row: 1, line: 1, messageId: expect.stringMatching(/^<.+@.+>$/) },
        { row: 2, line: 2, messageId: expect.stringMatching(/^<.+@.+>$/) },
      ],
    });
    const eve = await env.waitForMessage((m) => m.parsed.subject === `${tag} for <Eve>`);
    expect(eve.parsed.html).toContain('<p>Hi &lt;Eve&gt;</p>');
    expect(existsSync(join(ws.dir, 'rows.failed.jsonl'))).toBe(false);
  });

  it('a batch stops at the first failure no row can escape; the rest goes to the retry file as NOT_SENT', async () => {
    const broken = await createTestEnvironment();
    const w = workspace(broken);
    try {
      broken.directory.revokeAdminConsent(broken.clientId);
      const rows = Array.from({ length: 8 }, (_, i) => JSON.stringify({ to: `r${i}@example.com`, n: i }));
      const file = w.write('rows.jsonl', `${rows.join('\n')}\n`);
      const r = await runCli(
        [...w.args, 'send', '--json', '--batch', file, '--subject', 'n={{n}}', '--text', '-'],
        {
          cwd: w.dir,
          env: w.env,
          input: 'x',
        },
      );
      expect(r.code, output(r)).toBe(3);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({
        ok: false,
        total: 8,
        sent: 0,
        failed: 8,
        stoppedAfter: 'SMTP_AUTH_REJECTED',
      });
      expect(
        doc.failures.filter((f: { code: string }) => f.code === 'NOT_SENT').length,
      ).toBeGreaterThanOrEqual(4);
      // At most the 3 in-flight sends, each with the mailer's one fresh-token retry: not one per row.
      expect(broken.authAttempts().length).toBeLessThanOrEqual(6);
      const retry = readFileSync(join(w.dir, 'rows.failed.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(retry.map((x: { to: string }) => x.to)).toEqual(
        Array.from({ length: 8 }, (_, i) => `r${i}@example.com`),
      );
      expect(retry[7]).toMatchObject({ n: 7, error_code: 'NOT_SENT' });
    } finally {
      w.remove();
      await broken.close();
    }
  });

  it('a template field missing from the batch is a usage error before anything is sent', async () => {
    ws = workspace(env);
    const tag = unique('missing');
    const csv = ws.write('x.csv', 'to,name\nz@example.com,Zed\n');
    const before = env.messages().length;
    const r = await runCli(
      [...ws.args, 'send', '--batch', csv, '--subject', `${tag} {{nmae}}`, '--text', '-'],
      {
        cwd: ws.dir,
        env: ws.env,
        input: 'hi',
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 2: no value for {{nmae}}');
    expect(r.stderr).toContain('Columns available: to, name');
    expect(env.messages().length).toBe(before);
  });

  it('a header-injection attempt is refused by core before any network I/O (exit 2)', async () => {
    ws = workspace(env);
    const r = await runCli(
      [...ws.args, 'send', '--to', 'x@example.com', '--subject', 'hi\r\nBcc: victim@example.com'],
      {
        cwd: ws.dir,
        env: ws.env,
        input: 'body',
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MESSAGE_(HEADER_INJECTION|INVALID)/);
  });
});
