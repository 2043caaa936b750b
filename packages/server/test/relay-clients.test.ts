import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import {
  delivered,
  createDevice,
  mimeMessage,
  type RelayFixture,
  rawSmtp,
  run,
  startRelayFixture,
} from './helpers/relay.js';

// Real clients we did not write, each through the relay to the testkit's Exchange over XOAUTH2.
// The message (a quoted-printable text part, a base64 attachment, a line starting with a dot) must
// arrive byte for byte: the relay passes MIME through, core's sendRaw sends it unchanged.
describeDrivers('relay with third-party SMTP clients', (driver) => {
  let f: RelayFixture | undefined;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relay-clients-'));
  });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function message(subject: string) {
    const m = mimeMessage({
      from: f!.env.mailbox,
      to: 'customer@example.com',
      subject,
      messageId: `<${randomBytes(8).toString('hex')}@device.test>`,
    });
    const file = join(dir, `${subject.replace(/\W+/g, '-')}.eml`);
    await writeFile(file, m.raw);
    return { ...m, file };
  }

  async function expectDelivered(raw: Buffer, attachment: Buffer) {
    const delivered = await f!.env.waitForMessage(undefined, { timeoutMs: 30_000 });
    expect(delivered.raw.toString('latin1')).toBe(raw.toString('latin1'));
    expect(delivered.raw.equals(raw)).toBe(true);
    expect(delivered.parsed.attachments[0]!.content.equals(attachment)).toBe(true);
    expect(delivered.parsed.from[0]?.address).toBe(f!.env.mailbox);
    expect(delivered.identity).toMatchObject({ mailbox: f!.env.mailbox });
    expect(f!.env.messages()).toHaveLength(1);
  }

  // This machine's swaks lacks Net::SSLeay (no TLS), so it uses the loopback exception for
  // AUTH without STARTTLS — the configuration for an application on the relay's own host.
  it('swaks (loopback without TLS where explicitly allowed, AUTH LOGIN)', async () => {
    f = await startRelayFixture(driver, { relay: { allowInsecureAuthOnLoopback: true } });
    const dev = await createDevice(f.h, { name: 'swaks' });
    const m = await message('via swaks');
    const result = await run('swaks', [
      ...['--server', '127.0.0.1', '--port', String(f.ports.starttls)],
      ...['--auth', 'LOGIN', '--auth-user', dev.username, '--auth-password', dev.password],
      ...['--from', f.env.mailbox, '--to', 'customer@example.com', '--data', `@${m.file}`],
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/<- {2}250 2\.\d\.\d OK queued as/);
    // swaks writes "\r\n.\r\n" after the data even when it ends in CRLF: what it sent is one
    // empty line (in the MIME epilogue) longer than the file.
    await expectDelivered(Buffer.concat([m.raw, Buffer.from('\r\n')]), m.attachment);
  });

  it('Python smtplib (STARTTLS with certificate verification, AUTH PLAIN)', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'python' });
    const m = await message('via python');
    const script = [
      'import smtplib, ssl, sys',
      'port, user, password, cafile, path, sender = sys.argv[1:7]',
      'ctx = ssl.create_default_context(cafile=cafile)',
      "with smtplib.SMTP('127.0.0.1', int(port), timeout=60) as s:",
      '    s.starttls(context=ctx)',
      '    s.login(user, password)',
      "    s.sendmail(sender, ['customer@example.com'], open(path, 'rb').read())",
      "print('sent')",
    ].join('\n');
    const result = await run('python3', [
      '-c',
      script,
      String(f.ports.starttls),
      dev.username,
      dev.password,
      f.certFile,
      m.file,
      f.env.mailbox,
    ]);
    expect(result.code, result.stderr).toBe(0);
    await expectDelivered(m.raw, m.attachment);
  });

  it('curl (implicit TLS on the smtps listener, certificate verified)', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'curl' });
    const m = await message('via curl');
    const result = await run('curl', [
      ...['--silent', '--show-error', '--url', `smtps://127.0.0.1:${f.ports.tls}`],
      ...['--cacert', f.certFile, '--user', `${dev.username}:${dev.password}`],
      ...['--mail-from', f.env.mailbox, '--mail-rcpt', 'customer@example.com', '--upload-file', m.file],
    ]);
    expect(result.code, result.stderr).toBe(0);
    await expectDelivered(m.raw, m.attachment);
  });

  it('a legacy device: AUTH LOGIN only, pipelined commands, bare LF, 8-bit body without 8BITMIME, one connection per message', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'old printer' });
    const bodies: Buffer[] = [];
    for (const n of [1, 2]) {
      const smtp = await rawSmtp(f.ports.starttls);
      expect(await smtp.reply()).toMatch(/^220 /);
      smtp.write('EHLO printer\n');
      await smtp.reply();
      smtp.write('STARTTLS\n');
      expect(await smtp.reply()).toMatch(/^220 /);
      await smtp.starttls(f.certPem);
      smtp.write('EHLO printer\n');
      await smtp.reply();
      smtp.write('AUTH LOGIN\n');
      expect(await smtp.reply()).toMatch(/^334 /);
      smtp.write(`${Buffer.from(dev.username).toString('base64')}\n`);
      expect(await smtp.reply()).toMatch(/^334 /);
      smtp.write(`${Buffer.from(dev.password).toString('base64')}\n`);
      expect(await smtp.reply()).toMatch(/^235 /);
      // Pipelined in one write, without BODY=8BITMIME.
      smtp.write(`MAIL FROM:<${f.env.mailbox}>\nRCPT TO:<office@example.com>\nDATA\n`);
      expect(await smtp.reply()).toMatch(/^250 /);
      expect(await smtp.reply()).toMatch(/^250 /);
      expect(await smtp.reply()).toMatch(/^354 /);
      // Latin-1 bytes (8-bit) and bare LF line endings; no Message-ID (the relay adds one).
      const content = Buffer.concat([
        Buffer.from(
          `From: Scanner <${f.env.mailbox}>\nTo: office@example.com\nSubject: Scan ${n}\n\n`,
          'latin1',
        ),
        Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x0a]), // "Grüße" in Latin-1
        Buffer.from('..dot-stuffed line\nlast line', 'latin1'),
      ]);
      smtp.write(Buffer.concat([content, Buffer.from('\r\n.\r\n')]));
      const accepted = await smtp.reply();
      expect(accepted).toMatch(/^250 2\.\d\.\d OK queued as \S+ <[0-9a-f]{32}@contoso\.onmicrosoft\.com>$/);
      smtp.write('QUIT\n');
      await smtp.reply();
      smtp.close();
      bodies.push(content);
    }
    const messages = await delivered(f.env, 2);
    expect(messages).toHaveLength(2);
    for (const delivered of messages) {
      // The outbox may deliver the two in either order: pair each with the body of its Subject.
      const subject = /\r\nSubject: ([^\r\n]+)/.exec(delivered.raw.toString('latin1'))?.[1];
      const body = bodies.find((b) => b.toString('latin1').includes(`Subject: ${subject}\n`));
      expect(body, `a body with Subject: ${subject}`).toBeDefined();
      // Delivered = a Message-ID header (fixed at acceptance) + the content with CRLF line ends,
      // dot-unstuffed, every other byte (the 8-bit ones too) unchanged.
      const expected = Buffer.concat([
        Buffer.from(`Message-ID: ${delivered.messageId}\r\n`),
        Buffer.from(
          body!.toString('latin1').replace(/\n/g, '\r\n').replace('\r\n..dot', '\r\n.dot'),
          'latin1',
        ),
        Buffer.from('\r\n'),
      ]);
      expect(delivered.raw.toString('latin1')).toBe(expected.toString('latin1'));
      expect(delivered.raw.equals(expected)).toBe(true);
    }
    expect(messages[0]!.messageId).not.toBe(messages[1]!.messageId);
  });
});
