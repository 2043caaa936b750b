import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

describeDrivers('POST /api/send takes the message fields core supports, and refuses the rest', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = undefined;
    env = undefined;
  });

  async function start() {
    env = await createTestEnvironment();
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
    });
    await h.login();
    expect((await h.api('/api/email-servers', { body: kit.config })).status).toBe(201);
    const key = (await json(await h.api('/api/api-keys', { body: { name: 'app' } }))).key as string;
    const harness = h;
    const send = (body: unknown) =>
      // Prefer: wait — today's synchronous answer (200 with the server's reply once delivered).
      harness.api('/api/send', {
        body,
        cookie: false,
        headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
      });
    return { env: kit, send };
  }

  it('encoded attachments, inline cid, threading, priority, Message-ID and Date arrive', async () => {
    const { env, send } = await start();
    const res = await send({
      to: 'a@example.com, "Doe, Jane" <jane@example.com>',
      subject: 'fields over HTTP',
      html: '<img src="cid:logo@example.com">',
      attachments: [
        { filename: 'a.txt', content: 'aGVsbG8=', encoding: 'base64' },
        { filename: 'logo.png', content: 'iVBORw0KGgo=', encoding: 'base64', cid: 'logo@example.com' },
      ],
      messageId: '<http.1@example.com>',
      inReplyTo: '<parent@example.com>',
      references: ['<parent@example.com>'],
      date: '2026-01-31T09:30:00Z',
      priority: 'high',
      headers: { 'X-Campaign': 'spring' },
    });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
    expect((await json(res)).messageId).toBe('<http.1@example.com>');
    const stored = await env.waitForMessage((m) => m.parsed.subject === 'fields over HTTP');
    expect(stored.envelope.rcptTo).toEqual(['a@example.com', 'jane@example.com']);
    expect(stored.parsed.messageId).toBe('<http.1@example.com>');
    expect(stored.parsed.attachments.find((a) => a.filename === 'a.txt')?.content.toString()).toBe('hello');
    const raw = stored.raw.toString('utf8');
    expect(raw).toContain('In-Reply-To: <parent@example.com>');
    expect(raw).toContain('X-Priority: 1 (Highest)');
    expect(raw).toMatch(/Content-ID: <logo@example\.com>/i);
  });

  // path reads the server's file system, href makes the server fetch a URL (SSRF): never over HTTP.
  it.each([
    ['attachments[0].path', { attachments: [{ filename: 'p', path: '/etc/passwd' }] }],
    [
      'attachments[0].href',
      { attachments: [{ filename: 'h', href: 'http://169.254.169.254/latest/meta-data/' }] },
    ],
    ['headers.Resent-Bcc', { headers: { 'Resent-Bcc': 'victim@example.com' } }],
    ['headers.DKIM-Signature', { headers: { 'DKIM-Signature': 'v=1' } }],
  ])('%s → 400 naming it, nothing sent', async (field, extra) => {
    const { env, send } = await start();
    const res = await send({ to: 'a@example.com', subject: 's', text: 'x', ...extra });
    expect(res.status).toBe(400);
    const err = (await json(res)).error as Json;
    expect(err.code).toBe('MESSAGE_INVALID');
    expect(err.issues.map((i: Json) => i.path)).toEqual([field]);
    expect(env.messages()).toHaveLength(0);
  });
});
