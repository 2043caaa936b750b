import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/clock.js';
import { createSmtpServer, type SmtpServer, type SmtpServerOptions } from '../src/smtp/index.js';
import { createMapAuthorizer, type MapAuthorizer, oauthBearer, xoauth2 } from './fixtures/smtp-authorizer.js';
import { connectRaw, type RawClient } from './fixtures/smtp-client.js';
import { testTls } from './fixtures/smtp-session.js';

const HOST = 'BN8PR04MB6210.namprd04.prod.outlook.com';
const MAILBOX = 'sender@contoso.com';
const TOKEN = 'good-token-abc123';

let servers: SmtpServer[] = [];
let sharedTls: ReturnType<typeof testTls>;
beforeAll(() => {
  sharedTls = testTls();
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(options: Partial<SmtpServerOptions> = {}, authorizer?: MapAuthorizer) {
  const auth = authorizer ?? createMapAuthorizer({ [TOKEN]: MAILBOX });
  // One certificate per file keeps the suite fast; the first test covers the self-made CA.
  const server = await createSmtpServer({ authorizer: auth, tls: sharedTls, ...options });
  servers.push(server);
  return { server, auth };
}

/** Connects, EHLOs, STARTTLS, EHLOs again. */
async function secureSession(server: SmtpServer): Promise<RawClient> {
  const c = await connectRaw(server.port);
  await c.read();
  await c.cmd('EHLO client.example');
  expect(await c.cmd('STARTTLS')).toBe('220 2.0.0 SMTP server ready');
  await c.starttls({ ca: server.caPem });
  await c.cmd('EHLO client.example');
  return c;
}

async function authed(server: SmtpServer, token = TOKEN, mailbox = MAILBOX): Promise<RawClient> {
  const c = await secureSession(server);
  expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(mailbox, token)}`)).toBe('235 2.7.0 Authentication successful');
  return c;
}

const EHLO_PLAIN = [
  `250-${HOST} Hello [127.0.0.1]`,
  '250-SIZE 157286400',
  '250-PIPELINING',
  '250-DSN',
  '250-ENHANCEDSTATUSCODES',
  '250-STARTTLS',
  '250-8BITMIME',
  '250-BINARYMIME',
  '250-CHUNKING',
  '250 SMTPUTF8',
].join('\r\n');
const EHLO_TLS = EHLO_PLAIN.replace('250-STARTTLS', '250-AUTH LOGIN XOAUTH2');

describe('Exchange persona transcript', () => {
  it('greets, lists EHLO capabilities exactly, offers AUTH only after STARTTLS', async () => {
    const clock = createClock({ frozen: true, start: Date.UTC(2026, 10, 5, 9, 3, 7) });
    const { server } = await start({ clock, tls: undefined });
    expect(server.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const c = await connectRaw(server.port);
    expect(await c.read()).toBe(
      `220 ${HOST} Microsoft ESMTP MAIL Service ready at Thu, 5 Nov 2026 09:03:07 +0000`,
    );
    expect(await c.cmd('EHLO client.example')).toBe(EHLO_PLAIN);
    expect(await c.cmd('STARTTLS')).toBe('220 2.0.0 SMTP server ready');
    await c.starttls({ ca: server.caPem });
    expect((c.socket() as import('node:tls').TLSSocket).getProtocol()).toMatch(/^TLSv1\.[23]$/);
    expect(await c.cmd('EHLO client.example')).toBe(EHLO_TLS);
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe(
      '235 2.7.0 Authentication successful',
    );
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe('250 2.1.0 Sender OK');
    expect(await c.cmd('RCPT TO:<rcpt@example.org>')).toBe('250 2.1.5 Recipient OK');
    expect(await c.cmd('DATA')).toBe('354 Start mail input; end with <CRLF>.<CRLF>');
    const reply = await c.cmd(
      `From: ${MAILBOX}\r\nTo: rcpt@example.org\r\nSubject: hi\r\nMessage-ID: <abc@client>\r\n\r\n..leading dot\r\nbody\r\n.`,
    );
    expect(reply).toBe(`250 2.0.0 OK <abc@client> [Hostname=${HOST}]`);
    expect(await c.cmd('QUIT')).toBe('221 2.0.0 Service closing transmission channel');
    const [m] = server.messages();
    expect(m?.raw.toString()).toBe(
      `From: ${MAILBOX}\r\nTo: rcpt@example.org\r\nSubject: hi\r\nMessage-ID: <abc@client>\r\n\r\n.leading dot\r\nbody\r\n`,
    );
    expect(m?.envelope).toEqual({ mailFrom: MAILBOX, rcptTo: ['rcpt@example.org'] });
    expect(m?.identity.mailbox).toBe(MAILBOX);
  });

  it('OAUTHBEARER is advertised only when enabled', async () => {
    const { server } = await start({ oauthBearer: true });
    const c = await connectRaw(server.port);
    await c.read();
    await c.cmd('EHLO x');
    await c.cmd('STARTTLS');
    await c.starttls({ ca: server.caPem });
    expect(await c.cmd('EHLO x')).toContain('250-AUTH LOGIN XOAUTH2 OAUTHBEARER\r\n');
  });

  it('refuses AUTH before TLS with 504 5.7.4 and MAIL before AUTH with 530 5.7.57', async () => {
    const { server } = await start();
    const c = await connectRaw(server.port);
    await c.read();
    await c.cmd('EHLO x');
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toMatch(
      new RegExp(
        `^504 5\\.7\\.4 Unrecognized authentication type \\[${HOST.replace(/\./g, '\\.')} \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z [0-9A-F]{16}\\]$`,
      ),
    );
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe('530 5.7.57 Client not authenticated to send mail.');
    expect(server.authAttempts()[0]).toMatchObject({ ok: false, mechanism: 'XOAUTH2' });
  });

  it('sends HELO, NOOP, RSET, unknown commands and sequence errors like Exchange', async () => {
    const { server } = await start();
    const c = await connectRaw(server.port);
    await c.read();
    expect(await c.cmd('MAIL FROM:<a@b>')).toBe('503 5.5.2 Send hello first');
    expect(await c.cmd('HELO x')).toBe(`250 ${HOST} Hello [127.0.0.1]`);
    expect(await c.cmd('NOOP')).toBe('250 2.0.0 OK');
    expect(await c.cmd('RSET')).toBe('250 2.0.0 Resetting');
    expect(await c.cmd('VRFY x')).toBe('500 5.3.3 Unrecognized command');
    const a = await authed(server);
    expect(await a.cmd('RCPT TO:<r@x>')).toBe('503 5.5.2 Need mail command');
    await a.cmd(`MAIL FROM:<${MAILBOX}>`);
    expect(await a.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe('503 5.5.2 Sender already specified');
    expect(await a.cmd('DATA')).toBe('503 5.5.2 Need rcpt command');
  });
});

describe('AUTH mechanisms', () => {
  it('XOAUTH2 in two steps: 334 then the blob', async () => {
    const { server } = await start();
    const c = await secureSession(server);
    expect(await c.cmd('AUTH XOAUTH2')).toBe('334 ');
    expect(await c.cmd(xoauth2(MAILBOX, TOKEN))).toBe('235 2.7.0 Authentication successful');
    expect(server.authAttempts()).toMatchObject([{ ok: true, mechanism: 'XOAUTH2', mailbox: MAILBOX }]);
  });

  it('OAUTHBEARER with the RFC 7628 gs2 header, initial response and two-step', async () => {
    const { server } = await start({ oauthBearer: true });
    const c = await secureSession(server);
    expect(await c.cmd(`AUTH OAUTHBEARER ${oauthBearer(MAILBOX, TOKEN, server.port)}`)).toBe(
      '235 2.7.0 Authentication successful',
    );
    const d = await secureSession(server);
    expect(await d.cmd('AUTH OAUTHBEARER')).toBe('334 ');
    expect(await d.cmd(oauthBearer(MAILBOX, TOKEN))).toBe('235 2.7.0 Authentication successful');
    expect(server.authAttempts().map((a) => [a.mechanism, a.ok])).toEqual([
      ['OAUTHBEARER', true],
      ['OAUTHBEARER', true],
    ]);
  });

  it('each refusal maps to its exact Exchange reply', async () => {
    const auth = createMapAuthorizer({ [TOKEN]: MAILBOX });
    auth.refusals.set('t-tenant', 'smtp-auth-disabled-tenant');
    auth.refusals.set('t-mailbox', 'smtp-auth-disabled-mailbox');
    auth.refusals.set('t-secdef', 'security-defaults');
    const { server } = await start({}, auth);
    const c = await secureSession(server);
    const cases: [string, string][] = [
      [`AUTH XOAUTH2 ${xoauth2(MAILBOX, 'unknown')}`, `535 5.7.3 Authentication unsuccessful [${HOST}]`],
      ['AUTH XOAUTH2 bm90IGEgYmxvYg==', `535 5.7.3 Authentication unsuccessful [${HOST}]`],
      ['AUTH XOAUTH2 !!!', `535 5.7.3 Authentication unsuccessful [${HOST}]`],
      [
        `AUTH XOAUTH2 ${xoauth2(MAILBOX, 't-tenant')}`,
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
      ],
      [
        `AUTH XOAUTH2 ${xoauth2(MAILBOX, 't-mailbox')}`,
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
      ],
      [
        `AUTH XOAUTH2 ${xoauth2(MAILBOX, 't-secdef')}`,
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
      ],
      [
        `AUTH PLAIN ${Buffer.from(`\0${MAILBOX}\0pw`).toString('base64')}`,
        '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
      ],
    ];
    for (const [command, reply] of cases) expect(await c.cmd(command)).toBe(reply);
    expect(await c.cmd('AUTH LOGIN')).toBe('334 VXNlcm5hbWU6');
    expect(await c.cmd(Buffer.from(MAILBOX).toString('base64'))).toBe('334 UGFzc3dvcmQ6');
    expect(await c.cmd(Buffer.from('hunter2').toString('base64'))).toBe(
      '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    );
    expect(await c.cmd('AUTH CRAM-MD5')).toMatch(/^504 5\.7\.4 Unrecognized authentication type \[/);
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe('530 5.7.57 Client not authenticated to send mail.');
    const attempts = server.authAttempts();
    expect(attempts.map((a) => a.ok)).toEqual(Array(9).fill(false));
    expect(attempts[0]).toMatchObject({
      mailbox: MAILBOX,
      refusal: 'authentication-unsuccessful',
      reason: 'unknown token',
    });
    expect(attempts[7]).toMatchObject({ mechanism: 'LOGIN', mailbox: MAILBOX });
    expect(JSON.stringify(attempts)).not.toContain('hunter2');
  });

  it('430 4.2.0 mailbox logon failure at MAIL (default) or at end of DATA', async () => {
    const auth = createMapAuthorizer({ [TOKEN]: MAILBOX });
    auth.noMailboxAccess.add(MAILBOX);
    const LOGON =
      '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message Cannot open mailbox.';
    const { server } = await start({}, auth);
    const c = await authed(server);
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe(LOGON);

    const { server: s2 } = await start({ mailboxLogonCheck: 'data' }, auth);
    const d = await authed(s2);
    expect(await d.cmd(`MAIL FROM:<${MAILBOX}>`)).toBe('250 2.1.0 Sender OK');
    await d.cmd('RCPT TO:<r@x.org>');
    await d.cmd('DATA');
    expect(await d.cmd(`From: ${MAILBOX}\r\n\r\nhi\r\n.`)).toBe(LOGON);
    expect(s2.messages()).toHaveLength(0);
  });

  it('554 5.2.252 SendAsDenied for a From header without SendAs (and the legacy form)', async () => {
    const auth = createMapAuthorizer({ [TOKEN]: MAILBOX });
    auth.sendAs.set(MAILBOX, new Set(['shared@contoso.com']));
    for (const variant of ['current', 'legacy'] as const) {
      const { server } = await start({ sendAsReplyVariant: variant }, auth);
      const c = await authed(server);
      const send = async (fromHeader: string, envelope = MAILBOX) => {
        await c.cmd(`MAIL FROM:<${envelope}>`);
        await c.cmd('RCPT TO:<r@x.org>');
        await c.cmd('DATA');
        return c.cmd(`${fromHeader ? `From: ${fromHeader}\r\n` : ''}Subject: s\r\n\r\nbody\r\n.`);
      };
      expect(await send('"Shared" <Shared@contoso.com>')).toMatch(/^250 2\.0\.0 OK </);
      const denied = await send('CEO <ceo@contoso.com>');
      expect(denied).toBe(
        variant === 'current'
          ? `554 5.2.252 SendAsDenied; ${MAILBOX} not allowed to send as ceo@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.`
          : '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.',
      );
      // Without a From header the envelope sender is checked.
      expect(await send('', 'other@contoso.com')).toMatch(/^554 5\.2\.(252|0) /);
      expect(server.messages()).toHaveLength(1);
    }
  });
});

describe('Google persona', () => {
  it('accepts with 235 2.7.0 Accepted, refuses with the 334 JSON challenge then 535-5.7.8', async () => {
    const { server } = await start({ persona: 'google' });
    const c = await connectRaw(server.port);
    expect(await c.read()).toMatch(/^220 smtp\.gmail\.com ESMTP \S+ - gsmtp$/);
    expect(await c.cmd('EHLO x')).toContain('250-STARTTLS');
    await c.cmd('STARTTLS');
    await c.starttls({ ca: server.caPem });
    const ehlo = await c.cmd('EHLO x');
    expect(ehlo).toContain('AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH');
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, 'bad')}`)).toBe(
      '334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K',
    );
    expect(await c.cmd('')).toMatch(
      /^535-5\.7\.8 Username and Password not accepted\. For more information, go to\r\n535 5\.7\.8 {2}https:\/\/support\.google\.com\/mail\/\?p=BadCredentials \S+ - gsmtp$/,
    );
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe('235 2.7.0 Accepted');
    expect(server.authAttempts().map((a) => a.ok)).toEqual([false, true]);
    expect(server.authAttempts()[0]?.reply).toMatch(/^535-5\.7\.8/);
  });
});

describe('TLS', () => {
  it('implicit TLS greets after the handshake', async () => {
    const { server } = await start({ mode: 'implicit-tls' });
    expect(server.url).toBe(`smtps://127.0.0.1:${server.port}`);
    const c = await connectRaw(server.port, { implicitTls: { ca: server.caPem, servername: 'localhost' } });
    expect(await c.read()).toMatch(/^220 .* Microsoft ESMTP MAIL Service ready at /);
    expect(await c.cmd('EHLO x')).toBe(EHLO_TLS);
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe(
      '235 2.7.0 Authentication successful',
    );
  });

  it('TLS 1.1 gets 421 4.7.66 and the connection is closed', async () => {
    const { server } = await start();
    const c = await connectRaw(server.port);
    await c.read();
    await c.cmd('EHLO x');
    await c.cmd('STARTTLS');
    await c.starttls({
      ca: server.caPem,
      maxVersion: 'TLSv1.1',
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    expect(await c.cmd('EHLO x')).toBe(
      '421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls.',
    );
    await c.closed;
  });

  it('drops commands pipelined in clear text after STARTTLS', async () => {
    const { server } = await start();
    const c = await connectRaw(server.port);
    await c.read();
    await c.cmd('EHLO x');
    c.write('STARTTLS\r\nNOOP\r\n');
    expect(await c.read()).toBe('220 2.0.0 SMTP server ready');
    await c.starttls({ ca: server.caPem });
    expect(await c.cmd('NOOP')).toBe('250 2.0.0 OK');
  });

  it('plain-no-starttls offers neither STARTTLS nor AUTH and refuses AUTH', async () => {
    const { server } = await start({ mode: 'plain-no-starttls' });
    const c = await connectRaw(server.port);
    await c.read();
    const ehlo = await c.cmd('EHLO x');
    expect(ehlo).not.toContain('STARTTLS');
    expect(ehlo).not.toContain('AUTH');
    expect(await c.cmd('STARTTLS')).toBe('500 5.3.3 Unrecognized command');
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toMatch(/^504 5\.7\.4 /);
  });
});

describe('session limits', () => {
  it('idle sessions get 451 4.7.0 and are closed; over-long lines get 500 5.5.2', async () => {
    const { server } = await start({ idleTimeoutMs: 200, maxLineLength: 1024 });
    const c = await connectRaw(server.port);
    await c.read();
    expect(await c.read(2000)).toBe(`451 4.7.0 Timeout waiting for client input [${HOST}]`);
    await c.closed;
    const d = await connectRaw(server.port);
    await d.read();
    d.write('x'.repeat(2048));
    expect(await d.read()).toBe('500 5.5.2 Line too long');
    await d.closed;
  });
});
