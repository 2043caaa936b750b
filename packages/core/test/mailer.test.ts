import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
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

describe('createMailer against the testkit (Exchange persona)', () => {
  let env: TestEnvironment;
  const mailers: Mailer[] = [];
  const mailer = (
    which: 'secret' | 'certificate' = 'secret',
    options: MailerOptions = {},
    overrides = {},
  ) => {
    const config = configFrom(which === 'secret' ? env.config : env.certificateConfig, overrides);
    // The testkit listens on 127.0.0.1, so Exchange's limits are asked for explicitly.
    const m = createMailer(config, {
      exchangeLimits: true,
      now: env.clock.now,
      sleep: clockSleep(env),
      ...options,
    });
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

  it('sends with a client secret and returns the server’s final reply', async () => {
    const result = await mailer().send({ to: 'rcpt@example.com', subject: 'secret path', text: 'hello' });
    expect(result.accepted).toEqual(['rcpt@example.com']);
    expect(result.rejected).toEqual([]);
    expect(result.response).toMatch(/^250 2\.0\.0 OK/);
    expect(result.messageId).toMatch(/^<.+>$/);
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'secret path');
    expect(stored.messageId).toBe(result.messageId);
    expect(stored.parsed.text?.trim()).toBe('hello');
    expect(stored.parsed.from[0]?.address).toBe(env.mailbox);
    expect(env.tokenRequests()).toHaveLength(1);
    expect(env.authAttempts().map((a) => a.mechanism)).toEqual(['XOAUTH2']);
  });

  it('sends with a certificate', async () => {
    const result = await mailer('certificate').send({
      to: 'rcpt@example.com',
      subject: 'cert path',
      text: 'hi',
    });
    expect(result.response).toMatch(/^250/);
    await env.waitForMessage((m) => m.parsed.subject === 'cert path');
    expect(env.tokenRequests().map((r) => r.authMethod)).toEqual(['assertion-ps256']);
  });

  it('verify() connects, upgrades to TLS and authenticates', async () => {
    await expect(mailer().verify()).resolves.toBeUndefined();
    expect(env.authAttempts().map((a) => a.ok)).toEqual([true]);
  });

  it('S10: 50 concurrent sends → exactly 1 token request', async () => {
    const m = mailer();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        m.send({ to: `r${i}@example.com`, subject: `bulk ${i}`, text: 'x' }),
      ),
    );
    expect(results.every((r) => r.response.startsWith('250'))).toBe(true);
    expect(env.tokenRequests()).toHaveLength(1);
    expect(env.messages()).toHaveLength(50);
  });

  it('S10: a token within 5 min of expiry is refreshed before the next send', async () => {
    const tokens = createTokenCache(createTokenProvider(configFrom(env.config), { now: env.clock.now }), {
      now: env.clock.now,
    });
    const m = mailer('secret', { tokenProvider: tokens });
    await m.send({ to: 'rcpt@example.com', subject: 'before', text: 'x' });
    const first = tokens.peek();
    env.clock.set((first?.expiresAt ?? 0) - 4 * 60_000);
    await m.send({ to: 'rcpt@example.com', subject: 'after', text: 'x' });
    expect(env.tokenRequests()).toHaveLength(2);
    expect(tokens.peek()?.accessToken).not.toBe(first?.accessToken);
  });

  it('a token failure surfaces as the token error, before any SMTP connection', async () => {
    const config = configFrom(env.config);
    if (config.auth.type === 'oauth2' && config.auth.credential.kind === 'secret')
      config.auth.credential.secret = 'wrong';
    const m = createMailer(config, { now: env.clock.now });
    mailers.push(m);
    const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
    expect(err.code).toBe('TOKEN_INVALID_CLIENT_SECRET');
    expect(env.authAttempts()).toHaveLength(0);
  });

  it('S6: connectAddress connects to the given IP while TLS verifies the host name', async () => {
    const ok = mailer('secret', { connectAddress: '127.0.0.1' }, { host: 'localhost' });
    await expect(ok.send({ to: 'rcpt@example.com', subject: 'pinned', text: 'x' })).resolves.toHaveProperty(
      'accepted',
    );
    // The certificate does not cover this name: proof the name, not the IP, is what TLS checks.
    const wrong = mailer(
      'secret',
      { connectAddress: '127.0.0.1', retry: false },
      { host: 'smtp.not-in-the-certificate.example' },
    );
    const err = await failure(wrong.send({ to: 'rcpt@example.com', text: 'x' }));
    expect(err.code).toBe('TLS_CERTIFICATE_INVALID');
  });

  it('S8: CRLF in the subject → MESSAGE_HEADER_INJECTION before any network I/O', async () => {
    const err = await failure(
      mailer().send({ to: 'rcpt@example.com', subject: 'x\r\nBcc: victim@example.com', text: 'x' }),
    );
    expect(err.code).toBe('MESSAGE_HEADER_INJECTION');
    expect(err.details.field).toBe('subject');
    expect(env.tokenRequests()).toHaveLength(0);
    expect(env.authAttempts()).toHaveLength(0);
    expect(env.messages()).toHaveLength(0);
  });

  it('S8: LF in a display name or custom header is refused too', async () => {
    const m = mailer();
    await expect(m.send({ to: { name: 'A\nB', address: 'a@example.com' }, text: 'x' })).rejects.toMatchObject(
      {
        code: 'MESSAGE_HEADER_INJECTION',
      },
    );
    await expect(
      m.send({ to: 'a@example.com', headers: { 'X-Tag': 'a\r\nBcc: v@x.com' }, text: 'x' }),
    ).rejects.toMatchObject({
      code: 'MESSAGE_HEADER_INJECTION',
    });
    expect(env.messages()).toHaveLength(0);
  });

  // Regression: token reused after 535
  it('535 once → invalidates the token, fetches a fresh one and retries exactly once', async () => {
    const fault = env.faults.smtp.add({
      stage: 'auth',
      reply: '535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    });
    const result = await mailer().send({ to: 'rcpt@example.com', subject: 'after 535', text: 'x' });
    expect(result.response).toMatch(/^250/);
    expect(fault.fired).toBe(1);
    expect(env.tokenRequests()).toHaveLength(2);
    expect(env.authAttempts().map((a) => a.reply.slice(0, 3))).toEqual(['235']);
    await env.waitForMessage((m) => m.parsed.subject === 'after 535');
  });

  it('535 twice → SMTP_AUTH_REJECTED after exactly one fresh-token retry', async () => {
    const fault = env.faults.smtp.add({
      stage: 'auth',
      reply: '535 5.7.3 Authentication unsuccessful [X]',
      times: 'always',
    });
    const err = await failure(mailer().send({ to: 'rcpt@example.com', subject: 'x', text: 'x' }));
    expect(err.code).toBe('SMTP_AUTH_REJECTED');
    expect(fault.fired).toBe(2);
    expect(env.tokenRequests()).toHaveLength(2);
    expect(env.messages()).toHaveLength(0);
  });

  describe('directory misconfigurations → the right code and a hint with the user’s values', () => {
    it('no admin consent (token without roles) → SMTP_AUTH_REJECTED', async () => {
      env.directory.revokeAdminConsent(env.clientId);
      try {
        const err = await failure(mailer().send({ to: 'rcpt@example.com', text: 'x' }));
        expect(err.code).toBe('SMTP_AUTH_REJECTED');
        expect(err.details.reply).toMatch(/^535 5\.7\.3 Authentication unsuccessful/);
        expect(err.hint).toContain(`adminconsent?client_id=${env.clientId}`);
        expect(err.hint).toContain(env.tenantId);
        expect(err.hint).toContain(`New-ServicePrincipal -AppId ${env.clientId}`);
      } finally {
        env.directory.grantAdminConsent(env.clientId);
      }
    });

    it('service principal not registered in Exchange → SMTP_AUTH_REJECTED', async () => {
      const sp = env.servicePrincipal;
      env.directory.removeServicePrincipal(sp.identity);
      try {
        const err = await failure(mailer().send({ to: 'rcpt@example.com', text: 'x' }));
        expect(err.code).toBe('SMTP_AUTH_REJECTED');
      } finally {
        const again = env.directory.newServicePrincipal(env.tenantId, {
          appId: sp.appId,
          objectId: sp.objectId,
        });
        env.directory.addMailboxPermission(env.mailbox, again.identity);
      }
    });

    it('no mailbox permission → SMTP_MAILBOX_LOGON_FAILED with Add-MailboxPermission for the mailbox', async () => {
      const ids = [...(env.directory.findMailbox(env.mailbox)?.fullAccess ?? [])];
      for (const id of ids) env.directory.removeMailboxPermission(env.mailbox, id);
      try {
        const err = await failure(
          mailer('secret', { retry: { attempts: 2 } }).send({ to: 'rcpt@example.com', text: 'x' }),
        );
        expect(err.code).toBe('SMTP_MAILBOX_LOGON_FAILED');
        expect(err.details.reply).toMatch(/^430 4\.2\.0 STOREDRV; mailbox logon failure/);
        expect(err.hint).toContain(`Add-MailboxPermission -Identity "${env.mailbox}"`);
      } finally {
        for (const id of ids) env.directory.addMailboxPermission(env.mailbox, id);
      }
    });

    it('SMTP AUTH disabled for the mailbox → SMTP_AUTH_DISABLED (no pointless token refetch)', async () => {
      env.directory.setMailboxSmtpAuth(env.mailbox, false);
      try {
        const err = await failure(mailer().send({ to: 'rcpt@example.com', text: 'x' }));
        expect(err.code).toBe('SMTP_AUTH_DISABLED');
        expect(err.hint).toContain(
          `Set-CASMailbox -Identity "${env.mailbox}" -SmtpClientAuthenticationDisabled $false`,
        );
        expect(env.tokenRequests()).toHaveLength(1);
      } finally {
        env.directory.setMailboxSmtpAuth(env.mailbox, null);
      }
    });

    it('SMTP AUTH disabled for the tenant → SMTP_AUTH_DISABLED naming the tenant switch', async () => {
      env.directory.setTenantSmtpAuth(env.tenantId, false);
      try {
        const err = await failure(mailer().send({ to: 'rcpt@example.com', text: 'x' }));
        expect(err.code).toBe('SMTP_AUTH_DISABLED');
        expect(err.hint).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $false');
      } finally {
        env.directory.setTenantSmtpAuth(env.tenantId, true);
      }
    });

    it('From another mailbox without SendAs → SMTP_SEND_AS_DENIED naming mailbox and From', async () => {
      const other = `shared@${env.tenantDomain}`;
      if (!env.directory.findMailbox(other)) env.directory.addMailbox(env.tenantId, other);
      const err = await failure(mailer().send({ from: other, to: 'rcpt@example.com', text: 'x' }));
      expect(err.code).toBe('SMTP_SEND_AS_DENIED');
      expect(err.transient).toBe(false);
      expect(err.hint).toContain(`Add-RecipientPermission -Identity "${other}"`);
      expect(err.hint).toContain(env.mailbox);
      // 5xx is permanent: one submission, no retry.
      expect(env.messages()).toHaveLength(0);
    });

    it('with SendAs granted, the same From goes through', async () => {
      const other = `shared@${env.tenantDomain}`;
      if (!env.directory.findMailbox(other)) env.directory.addMailbox(env.tenantId, other);
      // By object id: an earlier case re-created the service principal (new Exchange identity).
      env.directory.addRecipientPermission(other, env.servicePrincipal.objectId);
      try {
        const r = await mailer().send({
          from: { name: 'Shared', address: other },
          to: 'rcpt@example.com',
          text: 'x',
        });
        expect(r.response).toMatch(/^250/);
      } finally {
        env.directory.removeRecipientPermission(other, env.servicePrincipal.objectId);
      }
    });
  });

  it('S9: a 4xx reply is retried with backoff; a 5xx is not', async () => {
    const sleeps: number[] = [];
    env.faults.smtp.add({ stage: 'data-end', reply: '451 4.7.500 Server busy. Please try again later.' });
    const r = await mailer('secret', { sleep: clockSleep(env, sleeps) }).send({
      to: 'rcpt@example.com',
      subject: 'busy',
      text: 'x',
    });
    expect(r.response).toMatch(/^250/);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(env.messages()).toHaveLength(1);

    env.reset();
    env.faults.smtp.add({
      stage: 'rcpt',
      reply: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found',
    });
    const err = await failure(mailer().send({ to: 'nobody@example.com', text: 'x' }));
    expect(err.code).toBe('SMTP_REJECTED');
    expect(env.messages()).toHaveLength(0);
  });

  it('rate limit: Microsoft defaults (30/min) hold the 31st message until the window moves', async () => {
    const sleeps: number[] = [];
    const m = mailer('secret', { exchangeLimits: true, sleep: clockSleep(env, sleeps) });
    await Promise.all(
      Array.from({ length: 31 }, (_, i) => m.send({ to: 'r@example.com', subject: `rate ${i}`, text: 'x' })),
    );
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(env.messages()).toHaveLength(31);
  });
});

describe('Exchange per-mailbox limits', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment(); // Exchange persona with its limits on (3 connections, 30/min)
  });
  afterAll(async () => {
    await env?.close();
  });

  it('20 concurrent messages with Exchange limits: never more than 3 connections, no 432', async () => {
    const warnings: string[] = [];
    const m = createMailer(configFrom(env.config), {
      exchangeLimits: true,
      now: env.clock.now,
      sleep: clockSleep(env),
      logger: { warn: (msg) => warnings.push(msg) },
    });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, ...Object.values(env.smtpServer.connections()), 0);
    }, 2);
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          m.send({ to: `r${i}@example.com`, subject: `limit ${i}`, text: 'x' }),
        ),
      );
      expect(results.every((r) => r.response.startsWith('250'))).toBe(true);
    } finally {
      clearInterval(timer);
      await m.close();
    }
    expect(peak).toBeLessThanOrEqual(3);
    expect(env.authAttempts().every((a) => !a.reply.startsWith('432'))).toBe(true);
    expect(env.authAttempts().length).toBeLessThanOrEqual(3);
    expect(warnings.filter((w) => /retrying/.test(w))).toEqual([]);
    expect(env.messages()).toHaveLength(20);
    expect(env.tokenRequests()).toHaveLength(1);
  });
});

describe('TLS is mandatory (S7)', () => {
  it('a server without STARTTLS → TLS_REQUIRED, and it never saw AUTH', async () => {
    const env = await createTestEnvironment({ smtpMode: 'plain-no-starttls' });
    try {
      const m = createMailer(configFrom(env.config), { now: env.clock.now, sleep: clockSleep(env) });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('TLS_REQUIRED');
      expect(err.transient).toBe(false);
      expect(env.authAttempts()).toHaveLength(0);
      expect(env.messages()).toHaveLength(0);
      const transcript = JSON.stringify(env.smtpServer.messages());
      expect(transcript).not.toMatch(/AUTH/);
    } finally {
      await env.close();
    }
  });

  it('implicit TLS on 465-style servers works with security "tls"', async () => {
    const env = await createTestEnvironment({ smtpMode: 'implicit-tls' });
    try {
      const m = createMailer(configFrom(env.config), { now: env.clock.now });
      const r = await m.send({ to: 'rcpt@example.com', subject: 'implicit', text: 'x' });
      await m.close();
      expect(r.response).toMatch(/^250/);
    } finally {
      await env.close();
    }
  });

  it('an untrusted server certificate → TLS_CERTIFICATE_INVALID; no AUTH sent', async () => {
    const env = await createTestEnvironment();
    try {
      const tokenCa = env.caPem;
      const m = createMailer(configFrom(env.config, { tls: undefined }), {
        now: env.clock.now,
        token: { ca: tokenCa },
        retry: false,
      });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('TLS_CERTIFICATE_INVALID');
      expect(env.authAttempts()).toHaveLength(0);
    } finally {
      await env.close();
    }
  });
});

describe('Gmail persona (334 challenge before 535)', () => {
  it('nodemailer’s renew does not add token requests: one fresh-token retry in total, then SMTP_AUTH_REJECTED', async () => {
    const env = await createTestEnvironment({ persona: 'google' });
    try {
      env.directory.revokeAdminConsent(env.clientId);
      const m = createMailer(configFrom(env.config), { now: env.clock.now, retry: false });
      const err = await failure(m.send({ to: 'rcpt@example.com', text: 'x' }));
      await m.close();
      expect(err.code).toBe('SMTP_AUTH_REJECTED');
      expect(env.tokenRequests()).toHaveLength(2);
      expect(env.messages()).toHaveLength(0);
    } finally {
      await env.close();
    }
  });
});
