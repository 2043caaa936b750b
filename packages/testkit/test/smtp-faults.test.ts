import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpServer, type SmtpFaultStage, type SmtpServer } from '../src/smtp/index.js';
import { createMapAuthorizer, xoauth2 } from './fixtures/smtp-authorizer.js';
import { connectRaw } from './fixtures/smtp-client.js';
import { authed, secureSession, send, testTls } from './fixtures/smtp-session.js';

const MAILBOX = 'sender@contoso.com';
const TOKEN = 'tok-faults';
const FAULT = '421 4.3.2 Service not available';
let tlsOptions: ReturnType<typeof testTls>;
let server: SmtpServer;

beforeAll(() => {
  tlsOptions = testTls();
});
afterEach(async () => {
  await server?.close();
});

async function start() {
  server = await createSmtpServer({
    authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX, 'tok-b': 'b@contoso.com' }),
    tls: tlsOptions,
    limits: false,
  });
  return server;
}

/** Drives a full session and returns the reply at `stage`. */
async function replyAt(stage: SmtpFaultStage): Promise<string> {
  const c = await connectRaw(server.port);
  const greeting = await c.read();
  if (stage === 'connect') return greeting;
  const ehlo = await c.cmd('EHLO x');
  if (stage === 'ehlo') return ehlo;
  const tls = await c.cmd('STARTTLS');
  if (stage === 'starttls') return tls;
  await c.starttls({ ca: server.caPem });
  await c.cmd('EHLO x');
  const auth = await c.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`);
  if (stage === 'auth') return auth;
  const mail = await c.cmd(`MAIL FROM:<${MAILBOX}>`);
  if (stage === 'mail') return mail;
  const rcpt = await c.cmd('RCPT TO:<r@example.org>');
  if (stage === 'rcpt') return rcpt;
  await c.cmd('DATA');
  return c.cmd(`From: ${MAILBOX}\r\n\r\nx\r\n.`);
}

const STAGES: SmtpFaultStage[] = ['connect', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data-end'];

describe('fault injection', () => {
  it.each(STAGES)('replaces the reply at %s', async (stage) => {
    await start();
    const f = server.faults.add({ stage, reply: FAULT });
    expect(await replyAt(stage)).toBe(FAULT);
    expect(f.fired).toBe(1);
    // 'once' by default: the next session is normal.
    expect(await replyAt(stage)).not.toBe(FAULT);
    if (stage === 'data-end') expect(server.messages()).toHaveLength(1);
  });

  it.each(STAGES)('disconnects at %s', async (stage) => {
    await start();
    server.faults.add({ stage, disconnect: true });
    await expect(replyAt(stage)).rejects.toThrow(/connection closed/);
    expect(server.messages()).toHaveLength(0);
  });

  it('delays a stage, then answers normally', async () => {
    await start();
    server.faults.add({ stage: 'rcpt', delayMs: 300 });
    const t0 = Date.now();
    expect(await replyAt('rcpt')).toBe('250 2.1.5 Recipient OK');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('nth and times are counted per matching occurrence; match.mailbox filters', async () => {
    await start();
    server.faults.add({ stage: 'data-end', reply: '451 4.7.0 Temporary server error', nth: 2, times: 2 });
    server.faults.add({ stage: 'mail', reply: FAULT, times: 'always', match: { mailbox: 'b@contoso.com' } });
    const c = await authed(server, MAILBOX, TOKEN);
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push((await send(c, MAILBOX)).slice(0, 3));
    expect(replies).toEqual(['250', '451', '451', '250', '250']);
    const b = await authed(server, 'b@contoso.com', 'tok-b');
    expect(await send(b, 'b@contoso.com')).toBe(FAULT);
    expect(await send(b, 'b@contoso.com')).toBe(FAULT);
    expect(await send(c, MAILBOX)).toMatch(/^250/);
    expect(server.faults.list().map((f) => f.fired)).toEqual([2, 2]);
    server.faults.clear();
    expect(await send(b, 'b@contoso.com')).toMatch(/^250/);
  });

  it('an auth fault matched by mailbox uses the user= of the attempt', async () => {
    await start();
    server.faults.add({
      stage: 'auth',
      reply: '454 4.7.0 Temporary authentication failure',
      match: { mailbox: MAILBOX },
    });
    const c = await secureSession(server);
    expect(await c.cmd(`AUTH XOAUTH2 ${xoauth2('b@contoso.com', 'tok-b')}`)).toBe(
      '235 2.7.0 Authentication successful',
    );
    const d = await secureSession(server);
    expect(await d.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe(
      '454 4.7.0 Temporary authentication failure',
    );
    expect(await d.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe(
      '235 2.7.0 Authentication successful',
    );
  });

  it('rejects a fault reply without an SMTP code', async () => {
    await start();
    expect(() => server.faults.add({ stage: 'mail', reply: 'oops' })).toThrow(TypeError);
  });
});
