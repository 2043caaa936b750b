import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpServer, type SmtpServer, SmtpServerError } from '../src/smtp/index.js';
import { createMapAuthorizer, oauthBearer, xoauth2 } from './fixtures/smtp-authorizer.js';
import { authed, secureSession, send, testTls } from './fixtures/smtp-session.js';

const MAILBOX = 'sender@contoso.com';
const TOKEN = 'SECRET-TOKEN-must-never-be-stored-0123456789';
let tlsOptions: ReturnType<typeof testTls>;
let server: SmtpServer;

beforeAll(() => {
  tlsOptions = testTls();
});
afterEach(async () => {
  await server?.close();
});

async function start(oauth = false) {
  server = await createSmtpServer({
    authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX }),
    tls: tlsOptions,
    oauthBearer: oauth,
  });
  return server;
}

describe('message store', () => {
  it('never stores the token: not in messages(), authAttempts() or transcripts', async () => {
    await start(true);
    // Initial-response XOAUTH2, two-step XOAUTH2, OAUTHBEARER, a refused token, and AUTH LOGIN.
    const a = await authed(server, MAILBOX, TOKEN);
    expect(await send(a, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    const b = await secureSession(server);
    await b.cmd('AUTH XOAUTH2');
    expect(await b.cmd(xoauth2(MAILBOX, TOKEN))).toMatch(/^235/);
    expect(await send(b, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    const c = await secureSession(server);
    expect(await c.cmd(`AUTH OAUTHBEARER ${oauthBearer(MAILBOX, TOKEN)}`)).toMatch(/^235/);
    expect(await send(c, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    const d = await secureSession(server);
    expect(await d.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, `${TOKEN}-revoked`)}`)).toMatch(/^535 5\.7\.3/);
    await d.cmd('AUTH LOGIN');
    await d.cmd(Buffer.from(MAILBOX).toString('base64'));
    await d.cmd(Buffer.from(TOKEN).toString('base64'));

    const json = JSON.stringify({ m: server.messages(), a: server.authAttempts() });
    for (const secret of [
      TOKEN,
      xoauth2(MAILBOX, TOKEN),
      oauthBearer(MAILBOX, TOKEN),
      Buffer.from(TOKEN).toString('base64'),
    ]) {
      expect(json).not.toContain(secret);
    }
    const [first, second] = server.messages();
    expect(first?.transcript.map((t) => t.line)).toContain('AUTH XOAUTH2 <redacted>');
    expect(second?.transcript.filter((t) => t.from === 'client').map((t) => t.line)).toEqual([
      'EHLO client.example',
      'STARTTLS',
      'EHLO client.example',
      'AUTH XOAUTH2',
      '<redacted>',
      `MAIL FROM:<${MAILBOX}>`,
      'RCPT TO:<r@example.org>',
      'DATA',
      expect.stringMatching(/^<message data, \d+ bytes>$/),
    ]);
    expect(second?.transcript.at(-1)?.line).toMatch(/^250 2\.0\.0 OK/);
    expect(server.authAttempts().map((x) => [x.mechanism, x.ok])).toEqual([
      ['XOAUTH2', true],
      ['XOAUTH2', true],
      ['OAUTHBEARER', true],
      ['XOAUTH2', false],
      ['LOGIN', false],
    ]);
  });

  it('waitForMessage resolves for later messages, times out with SMTP_WAIT_TIMEOUT; clear() forgets', async () => {
    await start();
    const waiting = server.waitForMessage((m) => m.parsed.subject === 'second', { timeoutMs: 5000 });
    const c = await authed(server, MAILBOX, TOKEN);
    await send(c, MAILBOX, undefined, 'Subject: first\r\n\r\n1\r\n');
    await send(c, MAILBOX, undefined, 'Subject: second\r\n\r\n2\r\n');
    const m = await waiting;
    expect(m.parsed.subject).toBe('second');
    expect(m.parsed.text?.trim()).toBe('2');
    await send(c, MAILBOX, undefined, 'Subject: third\r\n\r\n3\r\n');
    const third = server.messages()[2];
    expect(third?.parsed).toBeUndefined(); // parsed lazily, only when asked
    expect((await third?.parse())?.subject).toBe('third');
    expect(third?.parsed?.subject).toBe('third');
    const err = await server
      .waitForMessage((x) => x.parsed.subject === 'never', { timeoutMs: 50 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SmtpServerError);
    expect(err).toMatchObject({ code: 'SMTP_WAIT_TIMEOUT' });
    server.clear();
    expect(server.messages()).toEqual([]);
    expect(server.authAttempts()).toEqual([]);
  });

  it('accepts BDAT chunks (CHUNKING is advertised) as one message', async () => {
    await start();
    const c = await authed(server, MAILBOX, TOKEN);
    await c.cmd(`MAIL FROM:<${MAILBOX}>`);
    await c.cmd('RCPT TO:<r@example.org>');
    const part1 = `From: ${MAILBOX}\r\nSubject: chunked\r\n\r\n`;
    const part2 = '.no unstuffing in BDAT\r\n';
    c.write(`BDAT ${Buffer.byteLength(part1)}\r\n${part1}`);
    expect(await c.read()).toBe(`250 2.0.0 BDAT ${Buffer.byteLength(part1)} bytes received`);
    c.write(`BDAT ${Buffer.byteLength(part2)} LAST\r\n${part2}`);
    expect(await c.read()).toMatch(/^250 2\.0\.0 OK <.+> \[Hostname=/);
    expect(server.messages()[0]?.raw.toString()).toBe(part1 + part2);
  });

  it('handles a message split across many TCP writes, terminator split too', async () => {
    await start();
    const c = await authed(server, MAILBOX, TOKEN);
    await c.cmd(`MAIL FROM:<${MAILBOX}>`);
    await c.cmd('RCPT TO:<r@example.org>');
    await c.cmd('DATA');
    const body = `From: ${MAILBOX}\r\nSubject: split\r\n\r\n${'line\r\n'.repeat(2000)}..dot\r\n.\r\n`;
    for (let i = 0; i < body.length; i += 7) {
      c.write(body.slice(i, i + 7));
      if (i % 700 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await c.read()).toMatch(/^250 2\.0\.0 OK/);
    expect(server.messages()[0]?.raw.toString()).toBe(body.slice(0, -3).replace('\r\n..dot', '\r\n.dot'));
  });
});

describe('waitForMessage', () => {
  it('rejects (does not hang) when the predicate throws', async () => {
    await start();
    const c = await authed(server, MAILBOX, TOKEN);
    await send(c, MAILBOX);
    await expect(
      server.waitForMessage(() => {
        throw new Error('predicate bug');
      }),
    ).rejects.toThrow('predicate bug');
  });
});
