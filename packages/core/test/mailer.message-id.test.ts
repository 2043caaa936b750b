import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createMailer, type Mailer } from '../src/mailer/index.js';
import { clockSleep, configFrom } from './fixtures/env.js';

describe('one Message-ID per message; raw messages pass unchanged', () => {
  let env: TestEnvironment;
  const mailers: Mailer[] = [];
  const mailer = () => {
    const m = createMailer(configFrom(env.config), { now: env.clock.now, sleep: clockSleep(env) });
    mailers.push(m);
    return m;
  };
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(() => env.reset());
  afterEach(async () => {
    await Promise.all(mailers.splice(0).map((m) => m.close()));
  });

  it('generates the Message-ID once and keeps it (and Date) for every retry', async () => {
    // Regression: each retry used to get a new Message-ID from nodemailer, so duplicates could not be
    // recognised by recipients.
    env.faults.smtp.add({ stage: 'data-end', reply: '451 4.7.500 Server busy. Please try again later.' });
    const r = await mailer().send({ to: 'rcpt@example.com', subject: 'retried', text: 'x' });
    expect(r.messageId).toMatch(/^<[0-9a-f-]{36}@[^>]+>$/);
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'retried');
    expect(stored.parsed.messageId).toBe(r.messageId);
  });

  it("uses the caller's messageId and refuses a malformed one", async () => {
    const r = await mailer().send({
      to: 'rcpt@example.com',
      subject: 'own id',
      text: 'x',
      messageId: '<abc.1@example.com>',
    });
    expect(r.messageId).toBe('<abc.1@example.com>');
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'own id');
    expect(stored.parsed.messageId).toBe('<abc.1@example.com>');
    const err = (await mailer()
      .send({ to: 'rcpt@example.com', text: 'x', messageId: 'no-brackets' })
      .catch((e: unknown) => e)) as SmtpOAuthError;
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.details).toMatchObject({ field: 'messageId' });
  });

  it('sendRaw delivers the bytes unchanged with the given envelope', async () => {
    const raw = Buffer.from(
      `From: ${env.config.user}\r\nTo: b@example.com\r\nSubject: raw pass\r\nMessage-ID: <raw.1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nH\u00e9llo \u2014 8-bit body\r\n`,
      'utf8',
    );
    const r = await mailer().sendRaw({
      raw,
      envelope: { from: env.config.user, to: ['b@example.com'] },
      messageId: '<raw.1@example.com>',
    });
    expect(r.messageId).toBe('<raw.1@example.com>');
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'raw pass');
    expect(stored.raw.includes(raw.subarray(raw.indexOf('\r\n\r\n')))).toBe(true);
    const err = (await mailer()
      .sendRaw({ raw, envelope: { from: env.config.user, to: [] } })
      .catch((e: unknown) => e)) as SmtpOAuthError;
    expect(err.code).toBe('MESSAGE_INVALID');
  });
});
