import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Json, json } from './helpers/harness.js';
import {
  delivered,
  outboxRowOf,
  createDevice,
  mimeMessage,
  type RelayFixture,
  rawSmtp,
  run,
  startRelayFixture,
} from './helpers/relay.js';

interface Attempt {
  auth?: { username: string; password: string };
  from: string;
  to: string[];
  /** Header From; defaults to `from`. */
  headerFrom?: string;
  /** Declared in MAIL FROM (RFC 1870). */
  size?: number;
  data?: Buffer;
}

/**
 * One transaction on the implicit-TLS listener, replies collected. Stops at the first refusal of
 * AUTH or MAIL FROM; otherwise goes through DATA like a client that ignores RCPT refusals.
 */
async function attempt(f: RelayFixture, a: Attempt): Promise<string[]> {
  const smtp = await rawSmtp(f.ports.tls, { tls: { ca: f.certPem } });
  const replies: string[] = [];
  const say = async (line: string | Buffer) => {
    smtp.write(line);
    const reply = await smtp.reply();
    replies.push(reply.split('\n').at(-1)!);
    return reply;
  };
  try {
    await smtp.reply();
    await say('EHLO device.test\r\n');
    if (a.auth) {
      const r = await say(
        `AUTH PLAIN ${Buffer.from(`\0${a.auth.username}\0${a.auth.password}`).toString('base64')}\r\n`,
      );
      if (!r.startsWith('235')) return replies;
    }
    if (!(await say(`MAIL FROM:<${a.from}>${a.size ? ` SIZE=${a.size}` : ''}\r\n`)).startsWith('250'))
      return replies;
    for (const to of a.to) await say(`RCPT TO:<${to}>\r\n`);
    if (!(await say('DATA\r\n')).startsWith('354')) return replies;
    const data =
      a.data ??
      mimeMessage({ from: a.headerFrom ?? a.from, to: a.to.join(', '), subject: 'policy test' }).raw;
    await say(Buffer.concat([data, Buffer.from('.\r\n')]));
    return replies;
  } finally {
    smtp.close();
  }
}

describeDrivers('relay policy and abuse', (driver) => {
  let f: RelayFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  const device = async (body: Record<string, unknown>) => {
    const d = await createDevice(f!.h, body);
    return { ...d, auth: { username: d.username, password: d.password } };
  };
  const lastError = async (id: string): Promise<Json> =>
    (await json(await f!.h.api(`/api/relay/devices/${id}`))).device.lastError;

  it('wrong password → 535 5.7.8; nothing delivered; the device records the refusal', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'printer' });
    const replies = await attempt(f, {
      auth: { username: d.username, password: `${d.password}x` },
      from: f.env.mailbox,
      to: ['a@example.com'],
    });
    expect(replies.at(-1)).toMatch(/^535 5\.7\.8 Authentication credentials invalid/);
    expect((await lastError(d.id)).reply).toMatch(/^535 /);
    // A disabled device cannot log in either.
    await f.h.api(`/api/relay/devices/${d.id}`, { method: 'PATCH', body: { enabled: false } });
    expect((await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com'] })).at(-1)).toMatch(
      /^535 /,
    );
    expect(f.env.messages()).toHaveLength(0);
  });

  it('failed logins are rate-limited per source address: past the limit even the right password gets 454', async () => {
    f = await startRelayFixture(driver, { server: { loginRateLimit: { maxFailuresPerAddress: 3 } } });
    const d = await device({ name: 'printer' });
    for (let i = 0; i < 3; i++) {
      const r = await attempt(f, {
        auth: { username: `guess${i}`, password: 'x' },
        from: f.env.mailbox,
        to: ['a@example.com'],
      });
      expect(r.at(-1)).toMatch(/^535 /);
    }
    const locked = await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com'] });
    expect(locked.at(-1)).toMatch(/^454 4\.7\.0 Too many failed logins/);
    // The admin login of the same address is not locked by relay failures (own keys).
    expect((await f.h.login()).status).toBe(200);
    await f.h.server.relay!.flushRefusals();
    const audit = (await json(await f.h.api('/api/audit?limit=50'))).entries as Array<{
      action: string;
      target: string;
    }>;
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'relay.refused.auth-failed', target: 'count:3' }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'relay.refused.auth-locked', target: 'count:1' }),
    );
    expect(f.env.messages()).toHaveLength(0);
  });

  it('envelope sender outside the policy → 553 at MAIL FROM; header From outside → 550 at the end of DATA', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'erp' });
    const envelope = await attempt(f, { auth: d.auth, from: 'ceo@evil.test', to: ['a@example.com'] });
    expect(envelope.at(-1)).toMatch(
      /^553 5\.\d\.\d Sender <ceo@evil\.test> is not allowed for device "erp"; allowed: sender@contoso/,
    );
    const header = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      headerFrom: 'ceo@evil.test',
      to: ['a@example.com'],
    });
    expect(header.at(-1)).toMatch(
      /^550 5\.\d\.\d From address <ceo@evil\.test> is not allowed for device "erp"/,
    );
    expect((await lastError(d.id)).reply).toMatch(/^550 /);
    expect(f.env.messages()).toHaveLength(0);
    // An explicit list replaces the default; `@domain` allows a domain.
    await f.h.api(`/api/relay/devices/${d.id}`, {
      method: 'PATCH',
      body: { allowedSenders: ['@contoso.onmicrosoft.com'] },
    });
    const ok = await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com'] });
    expect(ok.at(-1)).toMatch(/^250 /);
  });

  it('From policy "rewrite": From becomes the mailbox, the original goes to Reply-To', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'scanner', fromPolicy: 'rewrite' });
    const replies = await attempt(f, {
      auth: d.auth,
      from: 'scanner@printers.local',
      headerFrom: 'scanner@printers.local',
      to: ['a@example.com'],
    });
    expect(replies.at(-1)).toMatch(/^250 /);
    const delivered = await f.env.waitForMessage(undefined, { timeoutMs: 30_000 });
    expect(delivered.envelope.mailFrom).toBe(f.env.mailbox);
    expect(delivered.parsed.from[0]).toEqual({ address: f.env.mailbox, name: 'Device' });
    expect(delivered.raw.toString('latin1')).toContain('\r\nReply-To: Device <scanner@printers.local>\r\n');
  });

  it('too many recipients → 550 for the one over the limit and 554 for the message; nothing delivered', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'app', maxRecipientsPerMessage: 2 });
    const replies = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      to: ['a@example.com', 'b@example.com', 'c@example.com'],
    });
    expect(replies.slice(3)).toEqual([
      expect.stringMatching(/^250 /),
      expect.stringMatching(/^250 /),
      expect.stringMatching(
        /^550 5\.\d\.\d Too many recipients: device "app" may send to at most 2 per message/,
      ),
      expect.stringMatching(/^354 /),
      expect.stringMatching(/^554 5\.\d\.\d Not accepted: the message had more than 2 recipients/),
    ]);
    expect(f.env.messages()).toHaveLength(0);
  });

  it('recipients per day: past the limit → 452 (the device retries after the reset)', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'app', maxRecipientsPerDay: 3 });
    expect(
      (await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com', 'b@example.com'] })).at(
        -1,
      ),
    ).toMatch(/^250 /);
    const second = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      to: ['c@example.com', 'd@example.com'],
    });
    expect(second.slice(3, 5)).toEqual([
      expect.stringMatching(/^250 /),
      expect.stringMatching(/^452 4\.\d\.\d Daily recipient limit of 3 reached for device "app"/),
    ]);
    // Accepted = committed; the outbox delivers both, in either order.
    expect((await delivered(f.env, 2)).map((m) => m.envelope.rcptTo.join(',')).sort()).toEqual([
      'a@example.com,b@example.com',
      'c@example.com',
    ]);
  });

  it('over the size limit → 552, declared (MAIL FROM SIZE=) or not; nothing delivered', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'scanner', maxMessageBytes: 4096 });
    const declared = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      to: ['a@example.com'],
      size: 10_000,
    });
    expect(declared.at(-1)).toMatch(
      /^552 5\.\d\.\d Message too large: 10000 bytes; the limit for device "scanner" is 4096 bytes/,
    );
    const big = mimeMessage({
      from: f.env.mailbox,
      to: 'a@example.com',
      subject: 'big',
      attachment: Buffer.alloc(8000, 1),
    });
    const undeclared = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      to: ['a@example.com'],
      data: big.raw,
    });
    expect(undeclared.at(-1)).toMatch(
      /^552 5\.\d\.\d Message too large: \d+ bytes; the limit for device "scanner" is 4096/,
    );
    expect(f.env.messages()).toHaveLength(0);
  });

  it('the relay-wide limit: smtp-server refuses past it while reading DATA', async () => {
    f = await startRelayFixture(driver, { relay: { maxMessageBytes: 2048 } });
    const d = await device({ name: 'scanner' });
    const big = mimeMessage({
      from: f.env.mailbox,
      to: 'a@example.com',
      subject: 'big',
      attachment: Buffer.alloc(8000, 1),
    });
    const replies = await attempt(f, {
      auth: d.auth,
      from: f.env.mailbox,
      to: ['a@example.com'],
      data: big.raw,
    });
    expect(replies.at(-1)).toMatch(/^552 /);
    expect(f.env.messages()).toHaveLength(0);
  });

  it('an allow-listed address sends without AUTH as its device; swaks unauthenticated elsewhere gets 530', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'old fax', allowedIps: ['10.0.0.0/8'] });
    // 127.0.0.1 is not on the list yet.
    const refused = await run('swaks', [
      ...['--server', '127.0.0.1', '--port', String(f.ports.starttls)],
      ...['--from', f.env.mailbox, '--to', 'a@example.com'],
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toMatch(/<\*\* 530 5\.7\.0 Authentication required/);
    await f.h.api(`/api/relay/devices/${d.id}`, { method: 'PATCH', body: { allowedIps: ['127.0.0.1'] } });
    const sent = await run('swaks', [
      ...['--server', '127.0.0.1', '--port', String(f.ports.starttls)],
      ...['--from', f.env.mailbox, '--to', 'a@example.com', '--header', `From: ${f.env.mailbox}`],
    ]);
    expect(sent.code, sent.stdout).toBe(0);
    const delivered = await f.env.waitForMessage(undefined, { timeoutMs: 30_000 });
    expect(delivered.envelope.rcptTo).toEqual(['a@example.com']);
    const view = (await json(await f.h.api(`/api/relay/devices/${d.id}`))).device;
    expect(view.today).toMatchObject({ messages: 1, recipients: 1 });
  });

  // The relay answers 250 only after the outbox committed the message; a delivery failure comes later
  // and is the outbox's to record (the device already has its 250): permanent → failed with core's
  // code, temporary → queued again for a later attempt. Nothing is delivered either way.
  it('delivery failures after acceptance: permanent → failed with core’s code, temporary → retried later', async () => {
    f = await startRelayFixture(driver);
    const d = await device({ name: 'printer' });
    f.env.faults.smtp.add({ stage: 'data-end', reply: '554 5.6.0 Message rejected' });
    const permanent = await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com'] });
    expect(permanent.at(-1)).toMatch(/^250 2\.\d\.\d OK queued as /);
    const failed = await outboxRowOf(f.h, permanent.at(-1) ?? '', (m) => m.status === 'failed');
    expect(failed.message.status).toBe('failed');
    expect(failed.message.lastCode).toBe('SMTP_REJECTED');
    expect(failed.message.lastReply).toMatch(/^554 5\.6\.0/);

    f.env.faults.smtp.add({ stage: 'data-end', reply: '451 4.3.0 Temporary server error', times: 100 });
    const temporary = await attempt(f, { auth: d.auth, from: f.env.mailbox, to: ['a@example.com'] });
    expect(temporary.at(-1)).toMatch(/^250 /);
    const retried = await outboxRowOf(
      f.h,
      temporary.at(-1) ?? '',
      (m) => m.attempts >= 1 && m.status === 'queued',
    );
    expect(retried.message).toMatchObject({ status: 'queued', lastReply: expect.stringMatching(/^451 /) });
    expect(f.env.messages()).toHaveLength(0);
  });
});

describeDrivers('relay: nothing secret leaves', (driver) => {
  it('device passwords and message bodies reach no log line, audit row or API answer', async () => {
    const f = await startRelayFixture(driver);
    try {
      const d = await createDevice(f.h, { name: 'canary' });
      const BODY = 'CANARY-relay-body-9f8e7d6c5b4a';
      const data = Buffer.from(
        `From: <${f.env.mailbox}>\r\nTo: a@example.com\r\nSubject: canary\r\n\r\n${BODY}\r\n`,
        'latin1',
      );
      await attempt(f, {
        auth: { username: d.username, password: `${d.password}-wrong` },
        from: f.env.mailbox,
        to: ['a@example.com'],
      });
      const ok = await attempt(f, {
        auth: { username: d.username, password: d.password },
        from: f.env.mailbox,
        to: ['a@example.com'],
        data,
      });
      expect(ok.at(-1)).toMatch(/^250 /);
      await f.h.server.relay!.flushRefusals();
      const seen = [
        ...f.h.logger.lines,
        await (await f.h.api('/api/audit?limit=100')).text(),
        await (await f.h.api('/api/relay/devices')).text(),
        await (await f.h.api(`/api/relay/devices/${d.id}`)).text(),
        await (await f.h.api('/api/relay')).text(),
      ].join('\n');
      expect(seen).not.toContain(d.password);
      expect(seen).not.toContain(BODY);
      expect(seen).not.toMatch(/PRIVATE KEY/);
    } finally {
      await f.close();
    }
  });
});
