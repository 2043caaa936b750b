import { describe, expect, it } from 'vitest';
import { SmtpOAuthError } from '../src/errors/index.js';
import { addressProblem, isEmailAddress, type MailMessage, validateMessage } from '../src/message/index.js';

function failure(message: MailMessage, options?: Parameters<typeof validateMessage>[1]): SmtpOAuthError {
  try {
    validateMessage(message, options);
  } catch (err) {
    expect(err).toBeInstanceOf(SmtpOAuthError);
    return err as SmtpOAuthError;
  }
  throw new Error('expected validateMessage to throw');
}

const ok: MailMessage = { to: 'user@example.com', subject: 'Hello', text: 'Hi' };

describe('validateMessage: normalization', () => {
  it('normalizes every address form into { name?, address } arrays', () => {
    const m = validateMessage({
      from: 'Alerts <alerts@contoso.com>',
      to: ['a@example.com', { name: 'Bob', address: 'bob@example.com' }, '"Doe, Jane" <jane@example.com>'],
      cc: { address: 'c@example.com' },
      bcc: 'd@example.com',
      replyTo: 'Support <support@contoso.com>',
      subject: 'Report',
      text: 'body',
    });
    expect(m.from).toEqual({ name: 'Alerts', address: 'alerts@contoso.com' });
    expect(m.to).toEqual([
      { address: 'a@example.com' },
      { name: 'Bob', address: 'bob@example.com' },
      { name: 'Doe, Jane', address: 'jane@example.com' },
    ]);
    expect(m.cc).toEqual([{ address: 'c@example.com' }]);
    expect(m.bcc).toEqual([{ address: 'd@example.com' }]);
    expect(m.replyTo).toEqual([{ name: 'Support', address: 'support@contoso.com' }]);
    expect(m.attachments).toEqual([]);
    expect(m.headers).toEqual({});
    expect(m.estimatedBytes).toBeGreaterThan(0);
  });

  it('accepts bcc-only messages, Unicode subjects and IDN / SMTPUTF8 addresses', () => {
    expect(validateMessage({ bcc: ['x@example.com'], subject: 'Grüße 👋' }).bcc).toHaveLength(1);
    for (const a of [
      'user@bücher.de',
      'josé@example.com',
      '用户@例子.广告',
      'first.last+tag@sub.example.co.uk',
      '"quoted local"@example.com',
      'a@[192.0.2.1]',
    ])
      expect(isEmailAddress(a), a).toBe(true);
  });
});

describe('validateMessage: header injection (S8)', () => {
  it.each([
    [{ ...ok, subject: 'x\r\nBcc: victim@example.com' }, 'subject'],
    [{ ...ok, subject: 'x\nBcc: v@x' }, 'subject'],
    [{ ...ok, subject: 'nul\0byte' }, 'subject'],
    [{ to: ['ok@example.com', 'evil@example.com\r\nBcc: v@x'] }, 'to[1]'],
    [{ to: 'ok@example.com', cc: 'Name\n <c@example.com>' }, 'cc'],
    [{ to: [{ name: 'Eve\r\nBcc: v@x', address: 'eve@example.com' }] }, 'to[0].name'],
    [{ to: [{ address: 'eve@example.com\n' }] }, 'to[0].address'],
    [{ ...ok, from: 'Alerts\r\n <a@b.com>' }, 'from'],
    [{ ...ok, replyTo: ['r@example.com\r\n'] }, 'replyTo[0]'],
    [{ ...ok, headers: { 'X-Foo': 'bar\r\nBcc: v@x' } }, 'headers.X-Foo'],
    [{ ...ok, headers: { 'X-Foo\r\nBcc': 'v@x' } }, 'headers.X-Foo\r\nBcc'],
    [{ ...ok, attachments: [{ filename: 'a.txt\r\nX: y', content: 'x' }] }, 'attachments[0].filename'],
    [
      { ...ok, attachments: [{ filename: 'a.txt', content: 'x', contentType: 'text/plain\r\nX: y' }] },
      'attachments[0].contentType',
    ],
  ] as [MailMessage, string][])('refuses CR/LF/NUL in %j → field %s', (message, field) => {
    const err = failure(message);
    expect(err.code).toBe('MESSAGE_HEADER_INJECTION');
    expect(err.details.field).toBe(field);
    expect(err.message).toContain(field);
    expect(err.transient).toBe(false);
  });

  it('does not echo the offending value', () => {
    const err = failure({ ...ok, subject: 'secret-subject\r\nBcc: v@x' });
    expect(JSON.stringify(err)).not.toContain('secret-subject');
  });

  it('allows line breaks in bodies', () => {
    expect(validateMessage({ ...ok, text: 'line 1\r\nline 2', html: '<p>a</p>\n<p>b</p>' }).text).toContain(
      '\r\n',
    );
  });
});

describe('validateMessage: addresses and recipients', () => {
  it.each([
    ['plainaddress', 'to'],
    ['@example.com', 'to'],
    ['user@', 'to'],
    ['user@localhost', 'to'],
    ['a..b@example.com', 'to'],
    ['.a@example.com', 'to'],
    ['user@exa mple.com', 'to'],
    ['user@-example.com', 'to'],
    ['user@example.123', 'to'],
    [`${'a'.repeat(65)}@example.com`, 'to'],
  ])('refuses %s', (address, field) => {
    const err = failure({ to: address });
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.details.field).toBe(field);
  });

  // Regression: comma-separated recipients were refused although nodemailer and `--to` accept them.
  it('accepts comma-separated recipients and quoted display names with commas', () => {
    const m = validateMessage({ to: 'a@example.com, "Doe, Jane" <jane@example.com>' });
    expect(m.to).toEqual([{ address: 'a@example.com' }, { name: 'Doe, Jane', address: 'jane@example.com' }]);
    const err = failure({ to: 'Doe, Jane <jane@example.com>' });
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.hint).toContain('Quote a display name');
  });

  it('needs at least one recipient', () => {
    expect(failure({ subject: 'x' }).message).toContain('at least one recipient');
    expect(failure({ to: [] }).code).toBe('MESSAGE_INVALID');
  });

  it('allows 500 recipients (Exchange limit) and refuses 501', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@example.com`);
    expect(() => validateMessage({ to: many(300), bcc: many(200) })).not.toThrow();
    const err = failure({ to: many(300), cc: many(201) });
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.message).toContain('501 recipients');
    expect(failure({ to: many(3) }, { maxRecipients: 2 }).code).toBe('MESSAGE_INVALID');
  });

  it('addressProblem explains', () => {
    expect(addressProblem('user@localhost')).toContain('without a dot');
    expect(addressProblem('ok@example.com')).toBeUndefined();
  });
});

describe('validateMessage: headers, attachments, size', () => {
  it('refuses addressing headers through headers and invalid header names', () => {
    expect(failure({ ...ok, headers: { Bcc: 'v@x.com' } }).details.field).toBe('headers.Bcc');
    expect(failure({ ...ok, headers: { 'bad name': 'x' } }).code).toBe('MESSAGE_INVALID');
    expect(failure({ ...ok, headers: { 'X:Colon': 'x' } }).code).toBe('MESSAGE_INVALID');
    expect(validateMessage({ ...ok, headers: { 'X-Priority': '1' } }).headers).toEqual({ 'X-Priority': '1' });
  });

  it('validates attachments', () => {
    expect(failure({ ...ok, attachments: [{ filename: '', content: 'x' }] }).details.field).toBe(
      'attachments[0].filename',
    );
    expect(failure({ ...ok, attachments: [{ filename: 'a', content: 'x', contentType: 'pdf' }] }).code).toBe(
      'MESSAGE_INVALID',
    );
    const m = validateMessage({
      ...ok,
      attachments: [
        { filename: 'a.bin', content: new Uint8Array(10), contentType: 'application/octet-stream' },
      ],
    });
    expect(m.attachments[0]).toMatchObject({ filename: 'a.bin', contentType: 'application/octet-stream' });
  });

  it('estimates size with base64 overhead and refuses over maxBytes', () => {
    const content = new Uint8Array(3 * 1024 * 1024);
    const m = validateMessage({ ...ok, attachments: [{ filename: 'a.bin', content }] });
    expect(m.estimatedBytes).toBeGreaterThan(4 * 1024 * 1024);
    const err = failure(
      { ...ok, attachments: [{ filename: 'a.bin', content }] },
      { maxBytes: 4 * 1024 * 1024 },
    );
    expect(err.code).toBe('MESSAGE_TOO_LARGE');
    expect(err.details).toMatchObject({ maxBytes: 4 * 1024 * 1024 });
  });

  it('defaults to Exchange SIZE 157286400: 120 MiB of attachment is too large once encoded', () => {
    const content = new Uint8Array(120 * 1024 * 1024);
    expect(failure({ ...ok, attachments: [{ filename: 'big.bin', content }] }).code).toBe(
      'MESSAGE_TOO_LARGE',
    );
  });

  it('refuses non-object input and wrong types', () => {
    expect(failure(null as unknown as MailMessage).code).toBe('MESSAGE_INVALID');
    expect(failure({ ...ok, subject: 42 as unknown as string }).details.field).toBe('subject');
    expect(failure({ to: 42 as unknown as string }).details.field).toBe('to');
  });
});

// Regression: JSON bodies with the wrong container type threw a TypeError (the server's send API
// answered 500) instead of MESSAGE_INVALID naming the field.
it.each([
  ['attachments', { attachments: 'x' }],
  ['attachments', { attachments: { filename: 'a' } }],
  ['headers', { headers: 'x' }],
  ['headers', { headers: ['X-A: 1'] }],
])('%s of the wrong type → MESSAGE_INVALID naming it', (field, extra) => {
  expect(() => validateMessage({ to: 'a@example.com', ...extra } as never)).toThrowError(
    expect.objectContaining({ code: 'MESSAGE_INVALID', details: { field } }),
  );
});
