import { describe, expect, it } from 'vitest';
import { allowListEntryProblem, isLoopback, parseAllowList } from '../src/relay/allow-list.js';
import { devicePasswordMatches, generateDevicePassword, usernameFromName } from '../src/relay/credentials.js';
import { addressesOf, editHeader, headerValue, normalizeLineEndings, readHeader } from '../src/relay/mime.js';
import { allowedSenders, devicePolicy, entryAddresses } from '../src/relay/policy.js';
import { replyForSubmitError } from '../src/relay/replies.js';
import { SmtpOAuthError } from '@org/core';

describe('allow-list (ipaddr.js)', () => {
  it('matches addresses and CIDR ranges of both families; mapped IPv6 peers match IPv4 entries', () => {
    const list = parseAllowList(['192.0.2.0/24', '198.51.100.7', '2001:db8::/32']);
    expect(list.matches('192.0.2.99')).toBe(true);
    expect(list.matches('::ffff:192.0.2.99')).toBe(true);
    expect(list.matches('198.51.100.7')).toBe(true);
    expect(list.matches('198.51.100.8')).toBe(false);
    expect(list.matches('2001:db8:1::5')).toBe(true);
    expect(list.matches('2001:db9::5')).toBe(false);
    expect(list.matches('not an address')).toBe(false);
    expect(parseAllowList([]).matches('127.0.0.1')).toBe(false);
  });

  it('names invalid entries; loopback detection covers both families', () => {
    expect(allowListEntryProblem('10.0.0.0/8')).toBeUndefined();
    expect(allowListEntryProblem('10.0.0.0/33')).toMatch(/not an IP address or CIDR range/);
    expect(allowListEntryProblem('printer.local')).toMatch(/"printer\.local"/);
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('192.0.2.1')).toBe(false);
  });
});

describe('device credentials', () => {
  it('generated passwords are ~190-bit letters and digits, distinct, checked against their hash only', () => {
    const a = generateDevicePassword();
    const b = generateDevicePassword();
    expect(a.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(a.password).not.toBe(b.password);
    // Regression: a base64url password could start with "-" and read as an option to swaks.
    for (let i = 0; i < 200; i++) expect(generateDevicePassword().password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(a.hash).not.toContain(a.password);
    expect(devicePasswordMatches(a.password, a.hash)).toBe(true);
    expect(devicePasswordMatches(b.password, a.hash)).toBe(false);
    expect(devicePasswordMatches('', a.hash)).toBe(false);
    expect(usernameFromName('Drucker Büro 2. OG')).toBe('drucker-buro-2.-og');
    expect(usernameFromName('!!!')).toBe('device');
  });
});

describe('MIME edits on bytes', () => {
  const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

  it('bare LF becomes CRLF; CRLF input is returned as is', () => {
    const mixed = Buffer.from('a\nb\r\nc\n', 'latin1');
    expect(normalizeLineEndings(mixed).toString('latin1')).toBe('a\r\nb\r\nc\r\n');
    const clean = crlf('a\nb\n');
    expect(normalizeLineEndings(clean)).toBe(clean);
  });

  it('reads folded headers; Message-ID is prepended only when missing; the body is untouched', () => {
    const raw = crlf('From: "Scanner"\n <scan@printers.local>\nSubject: x\n\nbody \xe4\n');
    const { fields, end } = readHeader(raw);
    expect(headerValue(fields, 'from')).toBe('"Scanner" <scan@printers.local>');
    expect(addressesOf(headerValue(fields, 'from')!)).toEqual(['scan@printers.local']);
    expect(raw.subarray(end).toString('latin1')).toBe('\r\nbody \xe4\r\n');
    const edited = editHeader(raw, fields, { messageId: '<id@x>' });
    expect(edited.toString('latin1')).toBe(`Message-ID: <id@x>\r\n${raw.toString('latin1')}`);
  });

  it('rewrite: From becomes the mailbox with the display name as written; the original goes to Reply-To unless one exists', () => {
    const raw = crlf(
      'Subject: s\nFrom: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <scan@printers.local>\nTo: a@example.com\n\nbody\n',
    );
    const out = editHeader(raw, readHeader(raw).fields, { rewriteFrom: 'sender@contoso.com' }).toString(
      'latin1',
    );
    expect(out).toBe(
      'Subject: s\r\nFrom: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <sender@contoso.com>\r\nReply-To: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <scan@printers.local>\r\nTo: a@example.com\r\n\r\nbody\r\n',
    );
    const withReplyTo = crlf('From: scan@printers.local\nReply-To: helpdesk@contoso.com\n\nbody\n');
    const kept = editHeader(withReplyTo, readHeader(withReplyTo).fields, {
      rewriteFrom: 'sender@contoso.com',
    });
    expect(kept.toString('latin1')).toBe(
      'From: <sender@contoso.com>\r\nReply-To: helpdesk@contoso.com\r\n\r\nbody\r\n',
    );
  });
});

describe('sender policy', () => {
  const row = (allowed: string[]) =>
    devicePolicy({
      id: 'd',
      name: 'd',
      username: 'd',
      password_hash: 'x',
      entry_id: null,
      allowed_ips_json: '[]',
      allowed_senders_json: JSON.stringify(allowed),
      from_policy: 'enforce',
      max_recipients_per_message: null,
      max_recipients_per_day: null,
      max_message_bytes: null,
      enabled: 1,
      created_at: '',
      created_by: '',
      updated_at: '',
      last_used_at: null,
      last_error_at: null,
      last_error: null,
    });

  it("default: the entry's mailbox and from; a list replaces it; @domain allows a domain, not its look-alikes", () => {
    const entry = entryAddresses({
      user: 'Sender@Contoso.com',
      from: 'Contoso Billing <billing@contoso.com>',
    });
    const byDefault = allowedSenders(row([]), entry);
    expect(byDefault.list).toEqual(['sender@contoso.com', 'billing@contoso.com']);
    expect(byDefault.allows('BILLING@contoso.com')).toBe(true);
    expect(byDefault.allows('ceo@contoso.com')).toBe(false);
    const domain = allowedSenders(row(['@contoso.com']), entry);
    expect(domain.allows('anyone@contoso.com')).toBe(true);
    expect(domain.allows('anyone@evilcontoso.com')).toBe(false);
    expect(domain.allows('anyone@contoso.com.evil.test')).toBe(false);
  });
});

describe('replies for failed submissions', () => {
  it('outbox conditions → 451/452; core errors by transient; never the cause text', () => {
    expect(replyForSubmitError(Object.assign(new Error('x'), { code: 'OUTBOX_FULL' })).responseCode).toBe(
      452,
    );
    expect(
      replyForSubmitError(Object.assign(new Error('x'), { code: 'OUTBOX_UNAVAILABLE' })).responseCode,
    ).toBe(451);
    const transient = new SmtpOAuthError('NETWORK_CONNECT', 'connect failed', { transient: true });
    expect(replyForSubmitError(transient).text).toMatch(/^451 NETWORK_CONNECT: /);
    const permanent = new SmtpOAuthError('SMTP_REJECTED', 'refused', { transient: false });
    expect(replyForSubmitError(permanent).responseCode).toBe(554);
    expect(replyForSubmitError(new TypeError('boom at line 3')).text).toBe(
      '451 Temporary local problem while accepting the message; try again later',
    );
  });
});
