import { isSmtpOAuthError, parseConfig, SmtpOAuthError } from '@org/core';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { createMailerHost } from '../src/mailer-host/host.js';
import type { MailerHost } from '../src/mailer-host/mailer-host.js';
import { describeDrivers } from './helpers/drivers.js';
import { createCapturingLogger, type Harness, json, startHarness } from './helpers/harness.js';

let env: TestEnvironment | undefined;
let host: MailerHost | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await host?.close();
  await h?.close();
  await env?.close();
  host = undefined;
  h = undefined;
  env = undefined;
});

async function open() {
  env = await createTestEnvironment();
  const kit = env;
  const logger = createCapturingLogger();
  host = createMailerHost({ logger, now: () => kit.clock.now() });
  const parsed = parseConfig(kit.config);
  if (!parsed.ok) throw new Error('testkit config does not validate');
  // The entry's config crosses to the worker once; its mailers and token requests name only the key.
  const entry = host.entry('entry:v1', parsed.config);
  const mailer = await entry.open({ connectAddress: undefined, options: {} });
  return { kit, logger, mailer, config: parsed.config, entry };
}

it('sends in the worker; core errors come back as SmtpOAuthError with code, hint, transient, details', async () => {
  const { kit, mailer } = await open();
  const sent = await mailer.send({ to: 'a@example.com', subject: 'via the thread', text: 'hi' });
  expect(sent).toMatchObject({ accepted: ['a@example.com'], rejected: [] });
  await kit.waitForMessage((m) => m.parsed.subject === 'via the thread');

  const error = await mailer
    .send({ to: 'a@example.com', subject: 'x\r\nBcc: v@example.com' })
    .catch((e) => e);
  expect(error).toBeInstanceOf(SmtpOAuthError);
  expect(isSmtpOAuthError(error)).toBe(true);
  expect(error.code).toBe('MESSAGE_HEADER_INJECTION');
  expect(error.details.field).toBe('subject');
  expect(typeof error.hint).toBe('string');
  expect(error.transient).toBe(false);

  kit.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
  const refused = await mailer.send({ to: 'a@example.com', subject: 'refused', text: 'x' }).catch((e) => e);
  expect(refused).toBeInstanceOf(SmtpOAuthError);
  expect(refused.code).toBe('SMTP_REJECTED');
  expect(refused.details.reply).toMatch(/^550 /);
});

it('one token cache per key: the mailers and token requests of a key share it; logs are forwarded', async () => {
  const { kit, logger, mailer, entry } = await open();
  const second = await entry.open({ connectAddress: undefined, options: {} });
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? mailer : second).send({ to: `r${i}@example.com`, subject: `n${i}`, text: 'x' }),
    ),
  );
  const token = await entry.tokens!.getToken();
  expect(token.accessToken).toBeTruthy();
  expect(kit.tokenRequests()).toHaveLength(1);
  expect(logger.lines.length).toBeGreaterThan(0);
  await second.close();
  await mailer.close();
});

it('close: mailers closed, worker stopped; later use is refused', async () => {
  const { mailer, config } = await open();
  await mailer.send({ to: 'a@example.com', subject: 'before close', text: 'x' });
  await host!.close();
  await host!.close(); // idempotent
  await expect(host!.entry('k', config).open({ connectAddress: undefined, options: {} })).rejects.toThrow(
    /closed/,
  );
});

describeDrivers('mailerThread: false keeps the mailers on the main thread', (driver) => {
  it('S10 holds there too: 30 concurrent sends → 1 token request', async () => {
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      mailerThread: false,
    });
    await h.login();
    expect((await h.api('/api/email-servers', { body: kit.config })).status).toBe(201);
    const key = (await json(await h.api('/api/api-keys', { body: { name: 'app' } }))).key as string;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        h!.api('/api/send', {
          body: { to: `r${i}@example.com`, subject: `s${i}` },
          cookie: false,
          headers: { authorization: `Bearer ${key}`, prefer: 'wait=60' },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(kit.tokenRequests()).toHaveLength(1);
  });
});
