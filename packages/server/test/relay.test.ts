import nodemailer from 'nodemailer';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { json } from './helpers/harness.js';
import {
  createDevice,
  delivered as deliveredMessages,
  mimeMessage,
  type RelayFixture,
  rawSmtp,
  startRelayFixture,
} from './helpers/relay.js';

describeDrivers('SMTP relay: listeners, AUTH and the admin API', (driver) => {
  let f: RelayFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('never an open relay: unauthenticated MAIL FROM from an address on no list → 530 5.7.0 on every listener', async () => {
    f = await startRelayFixture(driver);
    await createDevice(f.h, { name: 'printer' });
    for (const [mode, port] of Object.entries(f.ports)) {
      const smtp = await rawSmtp(port, mode === 'tls' ? { tls: { ca: f.certPem } } : {});
      expect(await smtp.reply()).toMatch(/^220 /);
      smtp.write('EHLO device.test\r\n');
      expect(await smtp.reply()).toMatch(/^250/);
      smtp.write(`MAIL FROM:<${f.env.mailbox}>\r\n`);
      const reply = await smtp.reply();
      expect(reply, mode).toMatch(/^530 5\.7\.0 Authentication required/);
      smtp.write('RCPT TO:<someone@example.com>\r\n');
      expect(await smtp.reply()).toMatch(/^503 /);
      smtp.close();
    }
    expect(f.env.messages()).toHaveLength(0);
    // Refused connections reach the audit trail, aggregated per address and reason.
    await f.h.server.relay!.flushRefusals();
    const audit = await json(await f.h.api('/api/audit?limit=50'));
    const refused = (audit.entries as Array<{ action: string; target: string; address: string }>).filter(
      (e) => e.action === 'relay.refused.unauthenticated',
    );
    expect(refused).toEqual([expect.objectContaining({ target: 'count:2', address: '127.0.0.1' })]);
  });

  it('STARTTLS before AUTH: AUTH in clear text refused with 538, accepted after STARTTLS', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'scanner' });
    const smtp = await rawSmtp(f.ports.starttls);
    await smtp.reply();
    smtp.write('EHLO device.test\r\n');
    const ehlo = await smtp.reply();
    expect(ehlo).toMatch(/STARTTLS/);
    expect(ehlo).toMatch(/ENHANCEDSTATUSCODES/);
    expect(ehlo).toMatch(/SIZE 157286400/); // Exchange Online's 150 MiB
    smtp.write(`AUTH PLAIN ${Buffer.from(`\0${dev.username}\0${dev.password}`).toString('base64')}\r\n`);
    expect(await smtp.reply()).toMatch(/^538 5\.7\.0/);
    smtp.write('STARTTLS\r\n');
    expect(await smtp.reply()).toMatch(/^220 /);
    await smtp.starttls(f.certPem);
    smtp.write('EHLO device.test\r\n');
    expect(await smtp.reply()).toMatch(/AUTH PLAIN LOGIN/);
    smtp.write(`AUTH PLAIN ${Buffer.from(`\0${dev.username}\0${dev.password}`).toString('base64')}\r\n`);
    expect(await smtp.reply()).toMatch(/^235 /);
    smtp.close();
  });

  it('AUTH without TLS from loopback only when explicitly allowed', async () => {
    f = await startRelayFixture(driver, { relay: { allowInsecureAuthOnLoopback: true } });
    const dev = await createDevice(f.h, { name: 'app on this host' });
    const smtp = await rawSmtp(f.ports.starttls);
    await smtp.reply();
    smtp.write('EHLO app.test\r\n');
    await smtp.reply();
    smtp.write(`AUTH PLAIN ${Buffer.from(`\0${dev.username}\0${dev.password}`).toString('base64')}\r\n`);
    expect(await smtp.reply()).toMatch(/^235 /);
    smtp.close();
  });

  it('nodemailer as a client: delivered through the entry over XOAUTH2, MIME byte for byte', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'erp' });
    const { raw, attachment } = mimeMessage({
      from: f.env.mailbox,
      to: 'customer@example.com',
      subject: 'Invoice 4711',
      messageId: '<invoice-4711@erp.contoso.test>',
    });
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: f.ports.tls,
      secure: true,
      auth: { user: dev.username, pass: dev.password },
      tls: { ca: f.certPem, servername: 'localhost' },
    });
    try {
      const info = await client.sendMail({
        envelope: { from: f.env.mailbox, to: ['customer@example.com'] },
        raw,
      });
      expect(info.response).toMatch(/^250 2\.\d\.\d OK queued as \S+ <invoice-4711@erp\.contoso\.test>/);
    } finally {
      client.close();
    }
    const [delivered] = await deliveredMessages(f.env, 1);
    expect(delivered).toBeDefined();
    expect(delivered!.identity).toMatchObject({ mailbox: f.env.mailbox });
    expect(f.env.authAttempts().at(-1)?.mechanism).toBe('XOAUTH2');
    expect(delivered!.raw.equals(raw)).toBe(true);
    const parsed = await delivered!.parse();
    expect(parsed.attachments[0]!.content.equals(attachment)).toBe(true);
    expect(parsed.from[0]?.address).toBe(f.env.mailbox);
    // Counters and last use are visible to admins.
    const list = await json(await f.h.api('/api/relay/devices'));
    expect(list.devices[0]).toMatchObject({ name: 'erp', today: { messages: 1, recipients: 1, refused: 0 } });
    expect(list.devices[0].lastUsedAt).toEqual(expect.any(String));
  });
});

describeDrivers('relay admin API', (driver) => {
  let f: RelayFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('status names the listeners and the certificate fingerprint; devices CRUD is audited; the password is shown once', async () => {
    f = await startRelayFixture(driver);
    expect((await f.h.api('/api/relay/devices', { cookie: false })).status).toBe(401);
    const status = await json(await f.h.api('/api/relay'));
    expect(status.enabled).toBe(true);
    expect(status.status.listeners).toEqual([
      { mode: 'starttls', host: '127.0.0.1', port: f.ports.starttls, listening: true },
      { mode: 'tls', host: '127.0.0.1', port: f.ports.tls, listening: true },
    ]);
    expect(status.status.certificate.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(JSON.stringify(status)).not.toMatch(/PRIVATE KEY/);

    const created = await createDevice(f.h, {
      name: 'Printer 2nd floor',
      entryId: f.entryId,
      allowedIps: ['192.0.2.0/24'],
      maxRecipientsPerMessage: 5,
    });
    expect(created.username).toBe('printer-2nd-floor');
    expect(created.password).toMatch(/^[A-Za-z0-9]{32}$/);
    const listed = await f.h.api('/api/relay/devices');
    expect(await listed.text()).not.toContain(created.password);

    const bad = await f.h.api('/api/relay/devices', {
      body: {
        name: 'x',
        allowedIps: ['10.0.0.0/33'],
        allowedSenders: ['not an address'],
        fromPolicy: 'maybe',
      },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'allowedIps[0]',
      'allowedSenders[0]',
      'fromPolicy',
    ]);
    const dup = await f.h.api('/api/relay/devices', { body: { name: 'Printer 2nd floor' } });
    expect(dup.status).toBe(409);
    const noEntry = await f.h.api('/api/relay/devices', { body: { name: 'y', entryId: 'nope' } });
    expect(noEntry.status).toBe(400);
    expect((await json(noEntry)).error.issues[0].path).toBe('entryId');

    const patched = await f.h.api(`/api/relay/devices/${created.id}`, {
      method: 'PATCH',
      body: { fromPolicy: 'rewrite', enabled: false },
    });
    expect(patched.status).toBe(200);
    expect((await json(patched)).device).toMatchObject({ fromPolicy: 'rewrite', enabled: false });

    const reset = await json(await f.h.api(`/api/relay/devices/${created.id}/password`, { method: 'POST' }));
    expect(reset.password).not.toBe(created.password);

    expect((await f.h.api(`/api/relay/devices/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await f.h.api(`/api/relay/devices/${created.id}`)).status).toBe(404);

    const audit = await json(await f.h.api('/api/audit?limit=50'));
    const actions = (audit.entries as Array<{ action: string; fields: string[] }>)
      .filter((e) => e.action.startsWith('relay-device.'))
      .map((e) => e.action)
      .reverse();
    expect(actions).toEqual([
      'relay-device.create',
      'relay-device.update',
      'relay-device.password-reset',
      'relay-device.delete',
    ]);
    expect(JSON.stringify(audit)).not.toContain(created.password);
  });

  it('without the relay configured, status says so', async () => {
    const { startHarness } = await import('./helpers/harness.js');
    const h = await startHarness(driver);
    try {
      await h.login();
      expect(await json(await h.api('/api/relay'))).toEqual({ enabled: false, status: null });
    } finally {
      await h.close();
    }
  });
});

describeDrivers('relay self-test (the WebAdmin button)', (driver) => {
  let f: RelayFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('sends through the relay with the device credentials; a wrong password shows the relay’s 535', async () => {
    f = await startRelayFixture(driver);
    const dev = await createDevice(f.h, { name: 'copier' });
    const ok = await json(
      await f.h.api('/api/relay/test', {
        body: { username: dev.username, password: dev.password, to: 'it@example.com' },
      }),
    );
    expect(ok).toMatchObject({ ok: true, reply: expect.stringMatching(/^250 /), port: f.ports.starttls });
    const delivered = await f.env.waitForMessage(undefined, { timeoutMs: 30_000 });
    expect(delivered.envelope.rcptTo).toEqual(['it@example.com']);
    expect(delivered.parsed.subject).toBe('Relay test from the WebAdmin');
    const bad = await json(
      await f.h.api('/api/relay/test', {
        body: { username: dev.username, password: 'wrong', to: 'it@example.com' },
      }),
    );
    expect(bad).toMatchObject({ ok: false, reply: expect.stringMatching(/^535 5\.7\.8/) });
    expect(f.env.messages()).toHaveLength(1);
  });
});
