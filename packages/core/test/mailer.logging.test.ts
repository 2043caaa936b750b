import { randomUUID } from 'node:crypto';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/internal/logger.js';
import { createMailer } from '../src/mailer/index.js';
import { createTokenCache } from '../src/tokens/cache.js';
import { createTokenProvider } from '../src/tokens/create.js';
import { clockSleep, configFrom } from './fixtures/env.js';

/** Captures every line at every level, fields included, as the most verbose sink would. */
function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  return {
    lines,
    logger: {
      trace: sink('trace'),
      debug: sink('debug'),
      info: sink('info'),
      warn: sink('warn'),
      error: sink('error'),
    },
  };
}

describe('S4: no secret, token or body in logs at the most verbose level', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('a full send (with a 535 retry and a 4xx retry) leaks nothing', async () => {
    const { logger, lines } = captureLogger();
    const body = `CANARY-BODY-${randomUUID()}`;
    const html = `<p>CANARY-HTML-${randomUUID()}</p>`;
    const attachment = `CANARY-ATTACHMENT-${randomUUID()}`;
    const config = configFrom(env.config);
    const tokens = createTokenCache(createTokenProvider(config, { now: env.clock.now, logger }), {
      now: env.clock.now,
      logger,
    });
    env.faults.smtp.add({ stage: 'auth', reply: '535 5.7.3 Authentication unsuccessful [X]' });
    env.faults.smtp.add({ stage: 'data-end', reply: '451 4.7.500 Server busy. Please try again later.' });
    const mailer = createMailer(config, {
      tokenProvider: tokens,
      logger,
      now: env.clock.now,
      sleep: clockSleep(env),
    });
    const certMailer = createMailer(configFrom(env.certificateConfig), { logger, now: env.clock.now });
    try {
      await mailer.send({
        to: 'rcpt@example.com',
        subject: 'canary',
        text: body,
        html,
        attachments: [{ filename: 'a.txt', content: attachment }],
      });
      await certMailer.send({ to: 'rcpt@example.com', subject: 'canary cert', text: body });
    } finally {
      await mailer.close();
      await certMailer.close();
    }
    const accessToken = tokens.peek()?.accessToken ?? '';
    expect(accessToken.length).toBeGreaterThan(100);
    expect(lines.length).toBeGreaterThan(10); // it was verbose
    const all = lines.join('\n');
    const forbidden = [
      env.clientSecret,
      accessToken,
      accessToken.split('.')[2] ?? 'x',
      Buffer.from(`user=${env.mailbox}\x01auth=Bearer ${accessToken}\x01\x01`)
        .toString('base64')
        .slice(0, 40),
      env.certificate.privateKeyPem.split('\n')[1] ?? 'x',
      body,
      html,
      attachment,
      Buffer.from(body).toString('base64'),
      'BEGIN PRIVATE KEY',
    ];
    for (const canary of forbidden) expect(all).not.toContain(canary);
    // The stored message proves the canaries really went over the wire.
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'canary');
    expect(stored.parsed.text).toContain(body);
  });

  // Regression (issue 13 §8): debug lines named every recipient; addresses are personal data.
  it('no recipient address in any line unless logAddresses is set', async () => {
    const rcpt = `rcpt-${randomUUID().slice(0, 8)}@example.com`;
    for (const logAddresses of [false, true]) {
      const { logger, lines } = captureLogger();
      const mailer = createMailer(configFrom(env.config), { logger, now: env.clock.now, logAddresses });
      try {
        await mailer.send({ to: rcpt, subject: `addresses ${logAddresses}`, text: 'x' });
      } finally {
        await mailer.close();
      }
      const all = lines.join('\n');
      if (logAddresses) expect(all).toContain(rcpt);
      else {
        expect(all).not.toContain(rcpt);
        expect(all).not.toContain(env.mailbox);
        expect(all).toContain('[address]');
      }
    }
  });

  it('errors and failure logs carry no secret or body either', async () => {
    const { logger, lines } = captureLogger();
    const secret = `CANARY-SECRET-${randomUUID()}`;
    const body = `CANARY-BODY-${randomUUID()}`;
    const config = configFrom(env.config);
    if (config.auth.type === 'oauth2' && config.auth.credential.kind === 'secret')
      config.auth.credential.secret = secret;
    const mailer = createMailer(config, { logger, now: env.clock.now });
    let error: unknown;
    try {
      await mailer.send({ to: 'rcpt@example.com', text: body });
    } catch (err) {
      error = err;
    } finally {
      await mailer.close();
    }
    expect(error).toMatchObject({ code: 'TOKEN_INVALID_CLIENT_SECRET' });
    const e = error as Error & { hint: string; toJSON(): unknown };
    const everything = [
      lines.join('\n'),
      e.message,
      e.hint,
      JSON.stringify(e.toJSON()),
      String(e.stack),
    ].join('\n');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(body);
  });
});
