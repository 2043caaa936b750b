import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnvironment, type StoredMessage, type TestEnvironment } from '@org/testkit';
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createMailer, type Mailer } from '../src/mailer/index.js';
import type { MailMessage } from '../src/message/index.js';
import { configFrom } from './fixtures/env.js';

/** A stored message with mailparser's full parse (the testkit's own parse keeps only a few fields). */
type Arrived = StoredMessage & { mail: ParsedMail };
const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value);

type Row = {
  /** The fields under test (added to a minimal message with a unique subject). */
  message: MailMessage;
  /** What must arrive at the SMTP server, parsed by mailparser. */
  check: (stored: Arrived) => void;
};

const header = (m: Arrived, name: string) => m.mail.headers.get(name.toLowerCase());

/**
 * One row per field of MailMessage. `satisfies Record<keyof Required<MailMessage>, …>` makes a field
 * added to the type without a row here a compile error: no field can be dropped unnoticed.
 */
const rows = (mailbox: string) =>
  ({
    from: {
      message: { from: { name: 'Alerts, Contoso', address: mailbox } },
      check: (m) => expect(addresses(m.mail.from)).toEqual([{ name: 'Alerts, Contoso', address: mailbox }]),
    },
    to: {
      // Regression: a comma-separated string was refused although nodemailer and `--to` accept it.
      message: {
        to: ['a@example.com, "Doe, Jane" <jane@example.com>', { name: 'Bo', address: 'bo@example.com' }],
      },
      check: (m) => {
        expect(addresses(m.mail.to)).toEqual([
          { name: '', address: 'a@example.com' },
          { name: 'Doe, Jane', address: 'jane@example.com' },
          { name: 'Bo', address: 'bo@example.com' },
        ]);
        expect(m.envelope.rcptTo).toEqual(['a@example.com', 'jane@example.com', 'bo@example.com']);
      },
    },
    cc: {
      message: { cc: 'c1@example.com, c2@example.com' },
      check: (m) => {
        expect(addresses(m.mail.cc).map((v) => v.address)).toEqual(['c1@example.com', 'c2@example.com']);
      },
    },
    bcc: {
      message: { bcc: 'hidden@example.com' },
      check: (m) => {
        expect(m.envelope.rcptTo).toContain('hidden@example.com');
        expect(m.raw.toString('utf8')).not.toContain('hidden@example.com');
      },
    },
    replyTo: {
      message: { replyTo: 'Support <support@example.com>' },
      check: (m) =>
        expect(addresses(m.mail.replyTo)).toEqual([{ name: 'Support', address: 'support@example.com' }]),
    },
    inReplyTo: {
      message: { inReplyTo: '<parent.1@example.com>' },
      check: (m) => expect(m.mail.inReplyTo).toBe('<parent.1@example.com>'),
    },
    references: {
      message: { references: ['<root.1@example.com>', '<parent.1@example.com>'] },
      check: (m) => expect(m.mail.references).toEqual(['<root.1@example.com>', '<parent.1@example.com>']),
    },
    subject: {
      message: { subject: 'Grüße — subject' },
      check: (m) => expect(m.mail.subject).toBe('Grüße — subject'),
    },
    text: {
      message: { text: 'plain body é\r\nline 2' },
      check: (m) => expect(m.mail.text?.trim()).toBe('plain body é\nline 2'),
    },
    html: {
      message: { html: '<p>html <b>body</b></p>' },
      check: (m) => expect(m.mail.html).toContain('<p>html <b>body</b></p>'),
    },
    attachments: {
      // Regression: encoding was dropped, so the 8 characters of base64 arrived instead of 5 bytes;
      // cid was dropped, so inline images broke.
      message: {
        html: '<img src="cid:logo@example.com">',
        attachments: [
          { filename: 'a.txt', content: 'aGVsbG8=', encoding: 'base64' },
          { filename: 'b.bin', content: '00ff10', encoding: 'hex', contentType: 'application/octet-stream' },
          { filename: 'logo.png', content: 'iVBORw0KGgo=', encoding: 'base64', cid: 'logo@example.com' },
          { filename: 'note.txt', content: 'shown inline', contentDisposition: 'inline' },
          { filename: 'raw.bin', content: new Uint8Array([1, 2, 3]) },
        ],
      },
      check: (m) => {
        const byName = new Map(m.mail.attachments.map((a) => [a.filename, a]));
        expect(byName.get('a.txt')?.content.toString('latin1')).toBe('hello');
        expect([...(byName.get('b.bin')?.content ?? [])]).toEqual([0x00, 0xff, 0x10]);
        expect(byName.get('b.bin')?.contentType).toBe('application/octet-stream');
        expect(byName.get('logo.png')?.cid).toBe('logo@example.com');
        expect([...(byName.get('logo.png')?.content ?? [])]).toEqual([
          0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
        ]);
        // mailparser folds an inline text part into the body: check the part's own header.
        expect(m.raw.toString('utf8')).toMatch(/Content-Disposition: inline; filename=note\.txt/);
        expect([...(byName.get('raw.bin')?.content ?? [])]).toEqual([1, 2, 3]);
      },
    },
    headers: {
      message: {
        headers: {
          'X-Campaign': 'spring',
          'List-Unsubscribe': '<https://example.com/u>',
          'Auto-Submitted': 'auto-generated',
        },
      },
      check: (m) => {
        expect(header(m, 'X-Campaign')).toBe('spring');
        expect(String(header(m, 'Auto-Submitted'))).toBe('auto-generated');
        expect(m.raw.toString('utf8')).toContain('List-Unsubscribe: <https://example.com/u>');
      },
    },
    messageId: {
      message: { messageId: '<fields.1@example.com>' },
      check: (m) => expect(m.mail.messageId).toBe('<fields.1@example.com>'),
    },
    date: {
      message: { date: '2026-01-31T09:30:00Z' },
      check: (m) => expect(m.mail.date?.toISOString()).toBe('2026-01-31T09:30:00.000Z'),
    },
    envelope: {
      message: { to: 'header-only@example.com', envelope: { to: ['envelope@example.com'] } },
      check: (m) => {
        expect(m.envelope.rcptTo).toEqual(['envelope@example.com']);
        expect(m.envelope.mailFrom).toBe(mailbox);
        expect(addresses(m.mail.to).map((v) => v.address)).toEqual(['header-only@example.com']);
      },
    },
    priority: {
      message: { priority: 'high' },
      check: (m) => {
        expect(m.raw.toString('utf8')).toContain('\r\nX-Priority: 1 (Highest)\r\n');
        expect(m.raw.toString('utf8')).toContain('\r\nImportance: High\r\n');
      },
    },
  }) satisfies Record<keyof Required<MailMessage>, Row>;

describe('every MailMessage field arrives at the SMTP server', () => {
  let env: TestEnvironment;
  let mailer: Mailer;
  beforeAll(async () => {
    env = await createTestEnvironment({ limits: false });
    mailer = createMailer(configFrom(env.config), { limits: false, retry: false });
  });
  afterAll(async () => {
    await mailer?.close();
    await env?.close();
  });

  it.each(Object.keys(rows('x@example.com')) as (keyof MailMessage)[])('%s', async (field) => {
    const row: Row = rows(env.mailbox)[field];
    const subject = field === 'subject' ? 'Grüße — subject' : `field ${field}`;
    await mailer.send({ to: 'rcpt@example.com', subject, text: 'x', ...row.message });
    const stored = await env.waitForMessage((m) => m.parsed.subject === subject, { timeoutMs: 30_000 });
    row.check({ ...stored, mail: await simpleParser(stored.raw) });
  });
});

describe('refused, never dropped', () => {
  let env: TestEnvironment;
  let mailer: Mailer;
  beforeAll(async () => {
    env = await createTestEnvironment({ limits: false });
    mailer = createMailer(configFrom(env.config), { limits: false, retry: false });
  });
  afterAll(async () => {
    await mailer?.close();
    await env?.close();
  });

  const refusal = async (extra: Record<string, unknown>) =>
    (await mailer.send({ to: 'rcpt@example.com', subject: 's', text: 'x', ...extra } as MailMessage).then(
      () => undefined,
      (e: unknown) => e,
    )) as SmtpOAuthError | undefined;

  it.each([
    ['raw', { raw: 'From: a@b.c\r\n\r\nx' }],
    ['list', { list: { unsubscribe: 'https://example.com/u' } }],
    ['sender', { sender: 'x@example.com' }],
    ['watchHtml', { watchHtml: '<p>x</p>' }],
    ['icalEvent', { icalEvent: { content: 'BEGIN:VCALENDAR' } }],
    ['somethingElse', { somethingElse: 1 }],
    ['priority', { priority: 'urgent' }],
    ['envelope.size', { envelope: { to: ['a@example.com'], size: 10 } }],
    [
      'attachments[0].httpHeaders',
      { attachments: [{ filename: 'a', href: 'http://127.0.0.1/', httpHeaders: {} }] },
    ],
    ['attachments[0].encoding', { attachments: [{ filename: 'a', content: 'x', encoding: 'rot13' }] }],
    [
      'attachments[0].content',
      { attachments: [{ filename: 'a', content: 'not base64!', encoding: 'base64' }] },
    ],
    [
      'attachments[0].contentDisposition',
      { attachments: [{ filename: 'a', content: 'x', contentDisposition: 'x' }] },
    ],
    ['attachments[0].cid', { attachments: [{ filename: 'a', content: 'x', cid: 'has space' }] }],
    ['attachments[0].path', { attachments: [{ filename: 'p', path: '/etc/passwd' }] }],
    ['attachments[0].href', { attachments: [{ filename: 'h', href: 'http://127.0.0.1:1/' }] }],
    ['references[1]', { references: ['<a@b.c>', 'nope'] }],
    ['inReplyTo', { inReplyTo: 'no-brackets' }],
    ['date', { date: 'yesterday' }],
    ['from', { from: 'a@example.com, b@example.com' }],
    ['headers.In-Reply-To', { inReplyTo: '<a@b.c>', headers: { 'In-Reply-To': '<d@e.f>' } }],
  ])('%s → MESSAGE_INVALID naming it', async (field, extra) => {
    const err = await refusal(extra);
    expect(err?.code).toBe('MESSAGE_INVALID');
    expect(err?.details).toMatchObject({ field });
    expect(env.messages()).toHaveLength(0);
  });

  // Regression: these were accepted as custom headers although the API documents that addressing
  // and MIME headers are refused.
  it.each([
    'Resent-Bcc',
    'Return-Path',
    'Content-Disposition',
    'Message-ID',
    'Date',
    'DKIM-Signature',
    'Sender',
  ])('custom header %s is refused', async (name) => {
    const err = await refusal({ headers: { [name]: 'x@example.com' } });
    expect(err?.code).toBe('MESSAGE_INVALID');
    expect(err?.details).toMatchObject({ field: `headers.${name}` });
  });
});

describe('path and href attachments behind attachmentAccess', () => {
  let env: TestEnvironment;
  let dir: string;
  let http: Server;
  beforeAll(async () => {
    env = await createTestEnvironment({ limits: false });
    dir = await mkdtemp(join(tmpdir(), 'smtp-oauth-attach-'));
    await writeFile(join(dir, 'report.csv'), 'a,b\n1,2\n');
    http = createServer((_req, res) => res.end('fetched body'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => http?.close(r));
    await rm(dir, { recursive: true, force: true });
    await env?.close();
  });

  it('reads files and fetches URLs only when the mailer allows it', async () => {
    const port = (http.address() as AddressInfo).port;
    const message: MailMessage = {
      to: 'rcpt@example.com',
      subject: 'by path',
      text: 'x',
      attachments: [
        { path: join(dir, 'report.csv') },
        { filename: 'remote.txt', href: `http://127.0.0.1:${port}/file` },
      ],
    };
    const closed = createMailer(configFrom(env.config), { limits: false, retry: false });
    const err = (await closed.send(message).catch((e: unknown) => e)) as SmtpOAuthError;
    await closed.close();
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.details).toMatchObject({ field: 'attachments[0].path' });

    const open = createMailer(configFrom(env.config), {
      limits: false,
      retry: false,
      attachmentAccess: { files: true, urls: true },
    });
    await open.send(message);
    await open.close();
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'by path', { timeoutMs: 30_000 });
    const byName = new Map(stored.parsed.attachments.map((a) => [a.filename, a.content.toString('utf8')]));
    expect(byName.get('report.csv')).toBe('a,b\n1,2\n');
    expect(byName.get('remote.txt')).toBe('fetched body');
  });
});
