// The mailer under faults injected through the testkit: one Message-ID per message, an unknown
// outcome said so, every reply to AUTH understood, and the mailbox's connection limit obeyed.
import { createTestEnvironment, EXCHANGE_FAULT_REPLIES, type TestEnvironment } from '@org/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createMailer, type Mailer, type MailerOptions } from '../src/mailer/index.js';
import { createTokenCache } from '../src/tokens/cache.js';
import { createTokenProvider } from '../src/tokens/create.js';
import { clockSleep, configFrom } from './fixtures/env.js';

async function failure(p: Promise<unknown>): Promise<SmtpOAuthError> {
  try {
    await p;
  } catch (err) {
    return err as SmtpOAuthError;
  }
  throw new Error('expected the send to fail');
}

describe('outcome unknown and one Message-ID per message', () => {
  let env: TestEnvironment;
  const mailers: Mailer[] = [];
  const mailer = (options: MailerOptions = {}) => {
    const m = createMailer(configFrom(env.config), {
      now: env.clock.now,
      sleep: clockSleep(env),
      ...options,
    });
    mailers.push(m);
    return m;
  };
  beforeAll(async () => {
    env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(() => env.reset());
  afterEach(async () => {
    await Promise.all(mailers.splice(0).map((m) => m.close()));
  });

  // Regression: nodemailer requeued a message whose connection closed after the final "." and
  // sent it again (a duplicate, and before the fix with a new Message-ID).
  it('a connection lost after the final dot → SMTP_OUTCOME_UNKNOWN, no resend by default', async () => {
    env.faults.smtp.add({ stage: 'data-end', dropReply: true });
    const err = await failure(mailer().send({ to: 'rcpt@example.com', subject: 'ambiguous', text: 'x' }));
    expect(err.code).toBe('SMTP_OUTCOME_UNKNOWN');
    expect(err.transient).toBe(false);
    expect(err.hint).toMatch(/retryUnknownOutcome/);
    // The server did accept it: exactly once, and the error names its Message-ID.
    expect(env.messages()).toHaveLength(1);
    expect(err.details.messageId).toBe(env.messages()[0]?.messageId);
  });

  it('close({ force: true }) ends a send the server holds after the final dot (SMTP_OUTCOME_UNKNOWN); a plain close waits for it', async () => {
    const held = env.faults.smtp.add({ stage: 'data-end', delayMs: 60_000 });
    const m = mailer();
    const sending = failure(m.send({ to: 'rcpt@example.com', subject: 'held', text: 'x' }));
    const until = Date.now() + 30_000;
    while (held.seen === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await m.close();
    const first = await Promise.race([
      sending,
      new Promise((r) => setTimeout(() => r('still sending'), 300)),
    ]);
    expect(first).toBe('still sending');
    await m.close({ force: true });
    const err = await sending;
    expect(err.code).toBe('SMTP_OUTCOME_UNKNOWN');
  });

  it('no reply to the final dot before the socket timeout → SMTP_OUTCOME_UNKNOWN, not resent', async () => {
    env.faults.smtp.add({ stage: 'data-end', delayMs: 3_000 });
    const err = await failure(
      mailer({ timeouts: { socket: 800 } }).send({ to: 'rcpt@example.com', subject: 'slow', text: 'x' }),
    );
    expect(err.code).toBe('SMTP_OUTCOME_UNKNOWN');
    expect(err.details.connectionError).toBe('NETWORK_TIMEOUT');
    await new Promise((r) => setTimeout(r, 3_500));
    // The server saw one end of DATA (the client gave up on it, so it stored nothing): no resend.
    expect(env.faults.smtp.list()[0]?.seen).toBe(1);
    expect(env.messages()).toHaveLength(0);
  });

  it('retryUnknownOutcome: true resends with the same Message-ID (the duplicate is recognisable)', async () => {
    env.faults.smtp.add({ stage: 'data-end', dropReply: true });
    const result = await mailer({ retryUnknownOutcome: true }).send({
      to: 'rcpt@example.com',
      subject: 'twice',
      text: 'x',
    });
    const stored = env.messages();
    expect(stored).toHaveLength(2);
    expect(new Set(stored.map((m) => m.messageId))).toEqual(new Set([result.messageId]));
  });

  it('a failure before the final dot is retried safely (the message arrives once)', async () => {
    env.faults.smtp.add({ stage: 'rcpt', disconnect: true });
    const result = await mailer().send({ to: 'rcpt@example.com', subject: 'early cut', text: 'x' });
    expect(env.messages().map((m) => m.messageId)).toEqual([result.messageId]);
  });

  // Regression: a first attempt delivered-then-ambiguous plus a retry that met a refused
  // connection reported "Cannot connect" — the decisive failure is the unknown outcome.
  it('the final error is the decisive failure, not the last retry’s', async () => {
    env.faults.smtp.add({ stage: 'data-end', dropReply: true });
    env.faults.smtp.add({ stage: 'connect', disconnect: true, nth: 2, times: 'always' });
    const err = await failure(
      mailer({ retryUnknownOutcome: true }).send({ to: 'rcpt@example.com', subject: 'decisive', text: 'x' }),
    );
    expect(err.code).toBe('SMTP_OUTCOME_UNKNOWN');
    expect(err.details.lastAttempt).toMatchObject({ code: 'NETWORK_CONNECT' });
    expect(env.messages()).toHaveLength(1);
  });

  it('connections cut repeatedly while 120 messages are sent: no blind resend by default; with retries, duplicates share their Message-ID', async () => {
    const cut = () => {
      for (let n = 7; n <= 120; n += 13) env.faults.smtp.add({ stage: 'data-end', dropReply: true, nth: n });
      for (let n = 5; n <= 120; n += 17) env.faults.smtp.add({ stage: 'mail', disconnect: true, nth: n });
    };
    const run = async (m: Mailer) =>
      Promise.allSettled(
        Array.from({ length: 120 }, (_, i) =>
          m.send({ to: 'rcpt@example.com', subject: `m${i}`, text: 'x' }),
        ),
      );

    cut();
    const first = mailer();
    const atMostOnce = await run(first);
    // Its idle sessions would hold the mailbox's 3 connections against the next mailer.
    await first.close();
    const ids = env.messages().map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length); // no message stored twice
    const failed = atMostOnce.filter((r) => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect((f.reason as SmtpOAuthError).code).toBe('SMTP_OUTCOME_UNKNOWN');
    // Each unknown outcome is a message the server holds: nothing was lost silently.
    expect(ids.length).toBe(120);

    for (let i = 0; i < 100 && Object.keys(env.smtpServer.connections()).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    env.reset();
    cut();
    const atLeastOnce = await run(mailer({ retryUnknownOutcome: true }));
    expect(
      atLeastOnce.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SmtpOAuthError).message] : [])),
    ).toEqual([]);
    const stored = env.messages().map((m) => m.messageId);
    expect(new Set(stored).size).toBe(120);
    expect(stored.length).toBeGreaterThan(120); // duplicates exist …
    const sent = new Set(atLeastOnce.map((r) => (r.status === 'fulfilled' ? r.value.messageId : '')));
    for (const id of stored) expect(sent.has(id)).toBe(true); // … and each carries its original's id
  }, 120_000);
});

describe('every reply to AUTH is an authentication answer', () => {
  it('HVE: a token expiring within 10 minutes → 501 5.5.127 → drop it, fetch a new one, retry once', async () => {
    const env = await createTestEnvironment({ highVolumeEmail: true, limits: { messagesPerMinute: false } });
    try {
      const config = configFrom(env.config);
      // A cache with the old 5-minute margin still hands out a token with 8 minutes left.
      const tokens = createTokenCache(createTokenProvider(config, { now: env.clock.now, ca: env.caPem }), {
        now: env.clock.now,
        refreshAheadMs: 5 * 60_000,
      });
      await tokens.getToken();
      env.clock.advance(52 * 60_000);
      const m = createMailer(config, { now: env.clock.now, tokenProvider: tokens });
      await m.send({ to: 'rcpt@example.com', subject: 'hve', text: 'x' });
      await m.close();
      expect(env.authAttempts().map((a) => a.reply.slice(0, 9))).toEqual(['501 5.5.1', '235 2.7.0']);
      expect(env.authAttempts()[0]?.reply).toBe(
        '501 5.5.127 Invalid XOAUTH2 auth data - Token will expire soon',
      );
      expect(env.tokenRequests()).toHaveLength(2);
    } finally {
      await env.close();
    }
  });

  it('HVE with the default token cache: never a near-expiry token (refresh margin ≥ 10 min)', async () => {
    const env = await createTestEnvironment({ highVolumeEmail: true, limits: { messagesPerMinute: false } });
    try {
      const m = createMailer(configFrom(env.config), { now: env.clock.now });
      await m.send({ to: 'rcpt@example.com', text: 'first' });
      env.clock.advance(49 * 60_000 + 30_000); // 10.5 min left: may already count as due
      await m.send({ to: 'rcpt@example.com', text: 'second' });
      env.clock.advance(60_000); // 9.5 min left on the first token: must have been refreshed
      await m.send({ to: 'rcpt@example.com', text: 'third' });
      await m.close();
      expect(env.authAttempts().filter((a) => !a.ok)).toEqual([]);
    } finally {
      await env.close();
    }
  });

  it('HVE: an unknown XOAUTH2 user → SMTP_AUTH_USER_INVALID about the user, no token refetch', async () => {
    const env = await createTestEnvironment({ highVolumeEmail: true, limits: { messagesPerMinute: false } });
    try {
      const m = createMailer(configFrom(env.config, { user: 'nobody@contoso.onmicrosoft.com' }), {
        now: env.clock.now,
        retry: false,
      });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('SMTP_AUTH_USER_INVALID');
      expect(err.hint).toContain('nobody@contoso.onmicrosoft.com');
      expect(err.hint).toMatch(/primary SMTP address/);
      expect(env.authAttempts()).toHaveLength(1);
      expect(env.tokenRequests()).toHaveLength(1);
    } finally {
      await env.close();
    }
  });

  it('a refused token costs at most two AUTH attempts per send (Exchange)', async () => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      env.directory.revokeAdminConsent(env.clientId);
      const m = createMailer(configFrom(env.config), { now: env.clock.now, sleep: clockSleep(env) });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('SMTP_AUTH_REJECTED');
      expect(env.authAttempts()).toHaveLength(2);
    } finally {
      await env.close();
    }
  });

  it.each([
    [EXCHANGE_FAULT_REPLIES.basicAuthNotSupported, 'SMTP_BASIC_AUTH_DISABLED', /oauth2/i],
    [EXCHANGE_FAULT_REPLIES.serviceNotAvailable, 'SMTP_SERVICE_UNAVAILABLE', /Retry later/],
    ['454 4.7.0 Temporary authentication failure', 'SMTP_AUTH_TEMPORARY_FAILURE', /Retry later/],
    ['500 5.5.2 Line too long', 'SMTP_AUTH_REJECTED', /token/],
  ])('a reply to AUTH %s → %s', async (reply, code, hint) => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      env.faults.smtp.add({ stage: 'auth', reply, times: 'always' });
      const m = createMailer(configFrom(env.config), { now: env.clock.now, retry: false });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe(code);
      expect(err.hint).toMatch(hint);
      expect(err.hint).not.toMatch(/recipient/);
    } finally {
      await env.close();
    }
  });

  it.each([
    [EXCHANGE_FAULT_REPLIES.mailboxFull, 'SMTP_MAILBOX_FULL'],
    [EXCHANGE_FAULT_REPLIES.submissionQuotaExceeded, 'SMTP_QUOTA_EXCEEDED'],
  ])('at the end of DATA %s → %s, not retried', async (reply, code) => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      env.faults.smtp.add({ stage: 'data-end', reply, times: 'always' });
      const m = createMailer(configFrom(env.config), { now: env.clock.now, sleep: clockSleep(env) });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe(code);
      expect(err.transient).toBe(false);
      expect(env.faults.smtp.list()[0]?.fired).toBe(1);
    } finally {
      await env.close();
    }
  });
});

describe('the pool obeys the mailbox’s connection limit', () => {
  // Regression: 5 connections against a 3-connection mailbox: 33 of 200 sent, 167 SMTP_CONCURRENCY_LIMIT.
  it('createMailer(env.config) against createTestEnvironment(): 200 messages, 0 failures, no 432', async () => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      expect(env.config.limits).toEqual({ maxConnections: 3 });
      const m = createMailer(configFrom(env.config));
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          m.send({ to: 'rcpt@example.com', subject: `n${i}`, text: 'x' }),
        ),
      );
      await m.close();
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(env.messages()).toHaveLength(200);
      expect(env.authAttempts().filter((a) => !a.ok)).toEqual([]);
    } finally {
      await env.close();
    }
  }, 120_000);

  it('the default ready config carries both limits the server enforces: 200 messages, 0 failures', async () => {
    const env = await createTestEnvironment();
    try {
      expect(env.config.limits).toEqual({ maxConnections: 3, messagesPerMinute: 30 });
      // 200 messages at 30/min are 6.5 minutes of the shared clock; the sleep seam moves it.
      const m = createMailer(configFrom(env.config), { now: env.clock.now, sleep: clockSleep(env) });
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          m.send({ to: 'rcpt@example.com', subject: `r${i}`, text: 'x' }),
        ),
      );
      await m.close();
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(env.messages()).toHaveLength(200);
      expect(env.authAttempts().filter((a) => !a.ok)).toEqual([]);
    } finally {
      await env.close();
    }
  }, 120_000);

  it('configured above the limit (5 vs 3): 432 lowers the connection count; 200 messages, 0 lost', async () => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      const waits: number[] = [];
      const m = createMailer(configFrom(env.config), {
        limits: { maxConnections: 5 },
        sleep: async (ms) => {
          waits.push(ms);
          await new Promise((r) => setTimeout(r, Math.min(ms, 50)));
        },
      });
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          m.send({ to: 'rcpt@example.com', subject: `c${i}`, text: 'x' }),
        ),
      );
      await m.close();
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(env.messages()).toHaveLength(200);
      const refused = env.authAttempts().filter((a) => a.reply.startsWith('432'));
      // At most one refusal per connection above the limit, not one per message.
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThanOrEqual(4);
      // The backoff after a 432 is longer than the 1–2 s of an ordinary retry.
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(2_500);
    } finally {
      await env.close();
    }
  }, 120_000);

  it('a 432 that does not clear → SMTP_CONCURRENCY_LIMIT whose hint does not advise the value already set', async () => {
    const env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
    try {
      env.faults.smtp.add({
        stage: 'auth',
        reply: EXCHANGE_FAULT_REPLIES.concurrentConnectionsLimit,
        times: 'always',
      });
      const m = createMailer(configFrom(env.config), { sleep: async () => {} });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('SMTP_CONCURRENCY_LIMIT');
      expect(err.hint).not.toMatch(/Lower limits\.maxConnections to 3/);
      expect(err.hint).toMatch(/Other clients or instances/);
    } finally {
      await env.close();
    }
  });
});

describe('MAILER_CLOSED', () => {
  it.each(['send', 'sendRaw', 'verify'] as const)(
    '%s() after close() → MAILER_CLOSED (not NETWORK_CONNECT)',
    async (op) => {
      const env = await createTestEnvironment();
      try {
        const m = createMailer(configFrom(env.config));
        await m.close();
        const err = await failure(
          op === 'send'
            ? m.send({ to: 'rcpt@example.com', text: 'x' })
            : op === 'sendRaw'
              ? m.sendRaw({
                  raw: new TextEncoder().encode('Subject: x\r\n\r\nx\r\n'),
                  envelope: { from: env.mailbox, to: ['a@example.com'] },
                })
              : m.verify(),
        );
        expect(err.code).toBe('MAILER_CLOSED');
        expect(err.transient).toBe(false);
        expect(env.tokenRequests()).toHaveLength(0);
      } finally {
        await env.close();
      }
    },
  );
});
