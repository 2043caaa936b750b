// §8 "the SMTP client follows the rules other servers enforce": against a real, non-Microsoft
// submission server — Dovecot's, validating tokens itself through an oauth2 passdb — the mailer and
// the doctor authenticate with XOAUTH2 in the two-step form of RFC 4954 §4 (an Entra-sized token on
// the AUTH line gets Dovecot's `500 5.5.2 Line too long`). A refused token costs two AUTH attempts,
// and the hint speaks of the token and that server's policy, not of Exchange PowerShell.
import type { JsonWebKey } from 'node:crypto';
import { createCertificateAuthority, createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import type { EmailServerConfig } from '../src/config/schema.js';
import { diagnose } from '../src/doctor/index.js';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createMailer } from '../src/mailer/index.js';
import { type Dovecot, startDovecot, startIntrospection, startSink } from './fixtures/dovecot.js';

describe('Dovecot submission (oauth2 passdb) — a real non-Microsoft server', () => {
  let env: TestEnvironment;
  let dovecot: Dovecot;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let introspection: Awaited<ReturnType<typeof startIntrospection>>;
  let caPem: string;
  let leaf: { certificatePem: string; privateKeyPem: string };
  let config: EmailServerConfig;

  beforeAll(async () => {
    env = await createTestEnvironment({ limits: false });
    const ca = createCertificateAuthority();
    caPem = ca.certificatePem;
    leaf = ca.issueServerCertificate({ hosts: ['localhost', '127.0.0.1'] });
    sink = await startSink();
    introspection = await startIntrospection({
      jwks: () => env.tokenServer.keys.jwks() as unknown as { keys: JsonWebKey[] },
      now: env.clock.now,
      username: env.mailbox,
    });
    dovecot = await startDovecot({
      certificatePem: leaf.certificatePem,
      privateKeyPem: leaf.privateKeyPem,
      introspectionUrl: introspection.url,
      relayPort: sink.port,
    });
    const parsed = parseConfig({
      name: 'Dovecot',
      host: '127.0.0.1',
      port: dovecot.port,
      security: 'starttls',
      user: env.mailbox,
      from: env.mailbox,
      auth: {
        type: 'oauth2',
        provider: 'generic',
        tokenEndpoint: env.tokenEndpoint,
        clientId: env.clientId,
        scope: env.scope,
        clientAuthMethod: 'client_secret_post',
        credential: { kind: 'secret', secret: env.clientSecret },
      },
      tls: { ca: [caPem, env.caPem].join('\n') },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    config = parsed.config;
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    await sink?.close();
    await introspection?.close();
    await env?.close();
  });

  it('the mailer sends through Dovecot: AUTH XOAUTH2 in the two-step form, the message is relayed', async () => {
    const m = createMailer(config);
    try {
      const result = await m
        .send({ to: 'rcpt@example.com', subject: 'via dovecot', text: 'hello dovecot' })
        .catch((e) => {
          throw new Error(`${e}\n${dovecot.log()}`);
        });
      expect(result.accepted).toEqual(['rcpt@example.com']);
    } finally {
      await m.close();
    }
    expect(sink.messages.some((d) => d.includes('Subject: via dovecot'))).toBe(true);
    expect(introspection.requests).toBeGreaterThan(0);
  }, 60_000);

  it('the doctor authenticates against Dovecot, and its evidence shows the two-step form', async () => {
    const result = await diagnose(config);
    const auth = result.steps.find((s) => s.id === 'auth');
    expect(auth?.status, JSON.stringify(auth)).toBe('ok');
    expect(auth?.evidence.slice(0, 2)).toEqual(['C: AUTH XOAUTH2', 'S: 334 ']);
    expect(auth?.evidence.join('\n')).not.toContain(env.clientSecret);
  }, 60_000);

  it('a token Dovecot refuses → SMTP_AUTH_REJECTED after two AUTH attempts, with a hint about the token and this server', async () => {
    const before = introspection.requests;
    // The introspection endpoint vouches for the testkit mailbox only: another user is refused.
    const m = createMailer({ ...config, user: 'someone-else@contoso.onmicrosoft.com' }, { retry: false });
    let err: SmtpOAuthError | undefined;
    try {
      await m.send({ to: 'rcpt@example.com', text: 'x' });
    } catch (e) {
      err = e as SmtpOAuthError;
    } finally {
      await m.close();
    }
    expect(err?.code).toBe('SMTP_AUTH_REJECTED');
    expect(err?.details.command).toBe('AUTH XOAUTH2');
    expect(err?.hint).toMatch(/this server's own OAuth2 policy/);
    expect(err?.hint).not.toMatch(/New-ServicePrincipal|PowerShell|Add-MailboxPermission/);
    // One AUTH with the first token, one with a fresh token: two introspections, never four.
    expect(introspection.requests - before).toBe(2);
  }, 60_000);

  it('the doctor on a refused token: the fix speaks of the token and the server, not of Exchange', async () => {
    const result = await diagnose({ ...config, user: 'someone-else@contoso.onmicrosoft.com' });
    const auth = result.steps.find((s) => s.id === 'auth');
    expect(auth?.status).toBe('fail');
    expect(JSON.stringify(auth)).not.toMatch(/New-ServicePrincipal|Add-MailboxPermission|Set-CASMailbox/);
  }, 60_000);

  // Regression: the whole blob on the AUTH line (the mailer's and the doctor's old form) is what
  // Dovecot refuses; this pins the server behaviour the two-step form exists for.
  it('Dovecot refuses an Entra-sized initial response on the AUTH line: 500 5.5.2 Line too long', async () => {
    const { SmtpDialogue } = await import('../src/doctor/smtp-dialogue.js');
    const { xoauth2InitialResponse } = await import('../src/mailer/sasl.js');
    const d = await SmtpDialogue.open({ address: '127.0.0.1', port: dovecot.port, timeoutMs: 10_000 });
    try {
      await d.read();
      await d.command('EHLO test');
      await d.command('STARTTLS');
      await d.startTls('127.0.0.1', { ca: caPem });
      await d.command('EHLO test');
      const blob = xoauth2InitialResponse(env.mailbox, 'x'.repeat(1_400));
      const reply = await d.command(`AUTH XOAUTH2 ${blob}`, 'AUTH XOAUTH2 <long blob>');
      expect(reply.text).toMatch(/^500 5\.5\.2 Line too long/);
    } finally {
      await d.close();
    }
  }, 60_000);

  it('OAUTHBEARER only (RFC 7628): the mailer and the doctor dialogue use it, two-step, and send', async () => {
    const only = await startDovecot({
      certificatePem: leaf.certificatePem,
      privateKeyPem: leaf.privateKeyPem,
      introspectionUrl: introspection.url,
      relayPort: sink.port,
      mechanisms: 'oauthbearer',
    });
    try {
      const entry = { ...config, port: only.port };
      const m = createMailer(entry);
      try {
        await m.send({ to: 'rcpt@example.com', subject: 'via oauthbearer', text: 'x' });
      } finally {
        await m.close();
      }
      expect(sink.messages.some((d) => d.includes('Subject: via oauthbearer'))).toBe(true);
      expect(only.log()).toMatch(/method=OAUTHBEARER/);

      const { SmtpDialogue } = await import('../src/doctor/smtp-dialogue.js');
      const { oauthBearerInitialResponse } = await import('../src/mailer/sasl.js');
      const { createTokenProvider } = await import('../src/tokens/create.js');
      const token = await createTokenProvider(entry).getToken();
      const d = await SmtpDialogue.open({ address: '127.0.0.1', port: only.port, timeoutMs: 10_000 });
      try {
        await d.read();
        await d.command('EHLO test');
        await d.command('STARTTLS');
        await d.startTls('127.0.0.1', { ca: caPem });
        await d.command('EHLO test');
        const ok = await d.authenticate(
          'OAUTHBEARER',
          oauthBearerInitialResponse(env.mailbox, token.accessToken, '127.0.0.1', only.port),
          '<OAUTHBEARER response, redacted>',
        );
        expect(ok.twoStep).toBe(true);
        expect(ok.reply.code).toBe(235);
        expect(d.transcript.join('\n')).not.toContain(token.accessToken);
      } finally {
        await d.close();
      }
    } finally {
      await only.stop();
    }
  }, 90_000);
});
