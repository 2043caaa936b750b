import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/clock.js';
import { createSmtpServer, type SmtpServer, type SmtpServerOptions } from '../src/smtp/index.js';
import { createMapAuthorizer, xoauth2 } from './fixtures/smtp-authorizer.js';
import { authed, secureSession, send, testTls } from './fixtures/smtp-session.js';

const MAILBOX = 'sender@contoso.com';
const TOKEN = 'tok-limits';
let tlsOptions: ReturnType<typeof testTls>;
let servers: SmtpServer[] = [];

beforeAll(() => {
  tlsOptions = testTls();
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(options: Partial<SmtpServerOptions> = {}) {
  const server = await createSmtpServer({
    authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX, 'tok-other': 'other@contoso.com' }),
    tls: tlsOptions,
    ...options,
  });
  servers.push(server);
  return server;
}

describe('concurrent connections per mailbox', () => {
  it('the 4th authenticated connection gets 432 4.3.2 and is closed; a freed slot can be reused', async () => {
    const server = await start();
    const c1 = await authed(server, MAILBOX, TOKEN);
    const c2 = await authed(server, MAILBOX, TOKEN);
    const c3 = await authed(server, MAILBOX, TOKEN);
    await authed(server, 'other@contoso.com', 'tok-other');
    expect(server.connections()).toEqual({ [MAILBOX]: 3, 'other@contoso.com': 1 });

    const c4 = await secureSession(server);
    expect(await c4.cmd(`AUTH XOAUTH2 ${xoauth2(MAILBOX, TOKEN)}`)).toBe(
      '432 4.3.2 Concurrent connections limit exceeded.',
    );
    await c4.closed;
    expect(server.authAttempts().at(-1)).toMatchObject({ ok: false, mailbox: MAILBOX });
    expect(server.connections()[MAILBOX]).toBe(3);

    c1.close();
    await c1.closed;
    await expect.poll(() => server.connections()[MAILBOX]).toBe(2);
    const c5 = await authed(server, MAILBOX, TOKEN);
    expect(await send(c5, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    c2.close();
    c3.close();
  });

  it('limits: false lifts the cap', async () => {
    const server = await start({ limits: false });
    for (let i = 0; i < 5; i++) await authed(server, MAILBOX, TOKEN);
    expect(server.connections()[MAILBOX]).toBe(5);
  });
});

describe('30 messages per minute', () => {
  it('delays (does not refuse) the 31st submission until the clock moves the window on', async () => {
    const clock = createClock({ frozen: true, start: Date.UTC(2026, 0, 1) });
    const server = await start({ clock });
    const c = await authed(server, MAILBOX, TOKEN);
    for (let i = 0; i < 30; i++) expect(await send(c, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    clock.advance(30_000);
    const pending = send(c, MAILBOX);
    await expect.poll(() => server.throttled().length).toBe(1);
    const [held] = server.throttled();
    expect(held?.mailbox).toBe(MAILBOX);
    expect(held?.releaseAt.getTime()).toBe(Date.UTC(2026, 0, 1) + 60_000);
    // Still held while the window is full.
    await new Promise((r) => setTimeout(r, 100));
    expect(server.messages()).toHaveLength(30);
    clock.advance(30_000);
    expect(await pending).toMatch(/^250 2\.0\.0 OK/);
    expect(server.throttled()).toEqual([]);
    expect(server.messages().at(-1)?.throttledMs).toBe(30_000);
  });
});

describe('recipients', () => {
  it('500 per message: the 501st RCPT gets 452 4.5.3', async () => {
    const server = await start();
    const c = await authed(server, MAILBOX, TOKEN);
    await c.cmd(`MAIL FROM:<${MAILBOX}>`);
    c.write(Array.from({ length: 500 }, (_, i) => `RCPT TO:<r${i}@example.org>\r\n`).join(''));
    for (let i = 0; i < 500; i++) expect(await c.read()).toBe('250 2.1.5 Recipient OK');
    expect(await c.cmd('RCPT TO:<r500@example.org>')).toBe('452 4.5.3 Too many recipients');
  });

  it('10,000 per day: beyond it 554 5.2.0 SubmissionQuotaExceededException, until a day has passed', async () => {
    const clock = createClock({ frozen: true });
    const server = await start({ clock, limits: { messagesPerMinute: false } });
    const c = await authed(server, MAILBOX, TOKEN);
    const rcpts = Array.from({ length: 500 }, (_, i) => `r${i}@example.org`);
    for (let i = 0; i < 20; i++) expect(await send(c, MAILBOX, rcpts)).toMatch(/^250 2\.0\.0 OK/);
    expect(await send(c, MAILBOX, ['one-more@example.org'])).toBe(
      '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException',
    );
    clock.advance(86_400_000);
    expect(await send(c, MAILBOX, ['one-more@example.org'])).toMatch(/^250 2\.0\.0 OK/);
  });
});

describe('message size', () => {
  it('advertised SIZE is enforced on MAIL SIZE= and on the DATA itself', async () => {
    const server = await start();
    const c = await authed(server, MAILBOX, TOKEN);
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}> SIZE=157286401`)).toBe(
      '552 5.3.4 Message size exceeds fixed maximum message size',
    );
    expect(await c.cmd(`MAIL FROM:<${MAILBOX}> SIZE=157286400 BODY=8BITMIME`)).toBe('250 2.1.0 Sender OK');
    await c.cmd('RSET');

    const small = await start({ limits: { maxMessageSize: 1000 } });
    const d = await authed(small, MAILBOX, TOKEN);
    expect(await send(d, MAILBOX, undefined, `Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(30))).toBe(
      '552 5.3.4 Message size exceeds fixed maximum message size',
    );
    // The session stays usable.
    expect(await send(d, MAILBOX)).toMatch(/^250 2\.0\.0 OK/);
    expect(small.messages()).toHaveLength(1);
  });
});
