import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import type { CreateServerOptions } from '../src/server.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

/**
 * The outbox contract: the same suite against SQLite and PostgreSQL (unstorage's testDriver
 * pattern), through the real HTTP API, delivering to the testkit's Exchange-like SMTP server.
 */
describeDrivers('outbox contract', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = undefined;
    env = undefined;
  });

  async function start(outbox: CreateServerOptions['outbox'] = {}) {
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      outbox: { pollMs: 100, ...outbox },
    });
    await h.login();
    const created = await h.api('/api/email-servers', { body: kit.config });
    expect(created.status).toBe(201);
    const entryId = (await json(created)).emailServer.id as string;
    const key = await apiKey(h, 'app');
    return { env: kit, h, entryId, key };
  }

  async function apiKey(harness: Harness, name: string): Promise<string> {
    return (await json(await harness.api('/api/api-keys', { body: { name } }))).key as string;
  }

  const post = (harness: Harness, key: string, body: unknown, headers: Record<string, string> = {}) =>
    harness.api('/api/send', {
      body,
      cookie: false,
      headers: { authorization: `Bearer ${key}`, ...headers },
    });

  async function until(harness: Harness, id: string, done: (m: Json) => boolean, ms = 30_000): Promise<Json> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = await json(await harness.api(`/api/messages/${id}`));
      if (done(found.message)) return found;
      if (Date.now() > deadline) throw new Error(`message ${id} still ${found.message.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('202 only after the commit; delivered with the Message-ID fixed at acceptance; one attempt recorded', async () => {
    const { env, h, key } = await start();
    const res = await post(h, key, { to: 'a@example.com', subject: 'queued one', text: 'hi' });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted).toMatchObject({ status: 'queued' });
    expect(accepted.messageId).toMatch(/^<[^<>@]+@[^<>@]+>$/);
    expect(res.headers.get('location')).toBe(`/api/messages/${accepted.id}`);
    const delivered = await env.waitForMessage((m) => m.parsed.subject === 'queued one', {
      timeoutMs: 30_000,
    });
    expect(delivered.messageId).toBe(accepted.messageId);
    const found = await until(h, accepted.id, (m) => m.status === 'sent');
    expect(found.message).toMatchObject({
      messageId: accepted.messageId,
      attempts: 1,
      accepted: ['a@example.com'],
    });
    expect(found.message.lastReply).toMatch(/^250 /);
    expect(found.attempts).toHaveLength(1);
    expect(found.attempts[0]).toMatchObject({ attempt: 1, outcome: 'sent', code: null });
    expect(JSON.stringify(found)).not.toContain('hi');
    // The sent log is a view of the outbox.
    const log = await json(await h.api('/api/sent-log'));
    expect(log.entries[0]).toMatchObject({ id: accepted.id, status: 'sent', recipientCount: 1 });
  });

  it('Idempotency-Key: a repeat returns the first answer, never a second message; scoped per API key', async () => {
    const { env, h, key } = await start();
    const body = { to: 'a@example.com', subject: 'once only', text: 'x' };
    const first = await post(h, key, body, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(202);
    const a = await json(first);
    const again = await post(h, key, body, { 'idempotency-key': 'order-42' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const b = await json(again);
    expect(b).toMatchObject({ id: a.id, messageId: a.messageId });
    // The same key with another body is a client bug: refused, nothing stored.
    const other = await post(h, key, { ...body, subject: 'different' }, { 'idempotency-key': 'order-42' });
    expect(other.status).toBe(422);
    expect((await json(other)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Another API key has its own key space.
    const key2 = await apiKey(h, 'app2');
    const second = await json(await post(h, key2, body, { 'idempotency-key': 'order-42' }));
    expect(second.id).not.toBe(a.id);
    await until(h, a.id, (m) => m.status === 'sent');
    await until(h, second.id, (m) => m.status === 'sent');
    expect(env.messages().filter((m) => m.messageId === a.messageId)).toHaveLength(1);
    expect(env.messages()).toHaveLength(2);
    const bad = await post(h, key, body, { 'idempotency-key': 'with space' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.issues[0].path).toBe('Idempotency-Key');
  });

  it('Prefer: wait=N gives the synchronous answer (200 + SendResult), the failure, or 202 when the wait runs out', async () => {
    const { env, h, key } = await start({ schedule: { firstDelayMs: 60_000 } });
    const ok = await post(h, key, { to: 'a@example.com', subject: 'waited' }, { prefer: 'wait=20' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('preference-applied')).toBe('wait=20');
    const result = await json(ok);
    expect(result).toMatchObject({ status: 'sent', accepted: ['a@example.com'], rejected: [] });
    expect(result.response).toMatch(/^250 /);

    env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    const refused = await post(h, key, { to: 'a@example.com', subject: 'refused' }, { prefer: 'wait=20' });
    expect(refused.status).toBe(502);
    const error = (await json(refused)).error;
    expect(error.code).toBe('SMTP_REJECTED');
    expect(error.hint).toBeTruthy();
    expect(error.details).toMatchObject({ status: 'failed', reply: expect.stringMatching(/^550 /) });

    // A transient failure with the next attempt a minute away: the wait runs out → 202, still queued.
    env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 1 });
    const later = await post(h, key, { to: 'a@example.com', subject: 'later' }, { prefer: 'wait=2' });
    expect(later.status).toBe(202);
    expect((await json(later)).status).toBe('queued');
  });

  it('transient failures are retried on the schedule with every attempt recorded; permanent ones end at once', async () => {
    const { env, h, key } = await start({ schedule: { firstDelayMs: 200, jitter: 0 } });
    env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Temporary server error', times: 2 });
    const a = await json(await post(h, key, { to: 'a@example.com', subject: 'retried' }));
    const sent = await until(h, a.id, (m) => m.status === 'sent');
    expect(sent.attempts.map((x: Json) => x.outcome)).toEqual(['transient', 'transient', 'sent']);
    expect(sent.attempts[0].code).toBe('SMTP_TRANSIENT');
    expect(sent.attempts[0].reply).toMatch(/^451 /);
    // First retry after ~200 ms, the second after ~400 ms (doubling).
    const gaps = sent.attempts
      .slice(1)
      .map((x: Json, i: number) => Date.parse(x.at) - Date.parse(sent.attempts[i].at));
    expect(gaps[0]).toBeGreaterThanOrEqual(200);
    expect(gaps[1]).toBeGreaterThanOrEqual(400);
    expect(env.messages().filter((m) => m.messageId === a.messageId)).toHaveLength(1);

    env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    const b = await json(await post(h, key, { to: 'a@example.com', subject: 'permanent' }));
    const failed = await until(h, b.id, (m) => m.status === 'failed');
    expect(failed.message.attempts).toBe(1);
    expect(failed.message.lastCode).toBe('SMTP_REJECTED');
    expect(failed.message.lastHint).toBeTruthy();
    expect(failed.message.lastReply).toMatch(/^550 /);
  });

  it('a message still failing after its maximum lifetime is given up with the last code', async () => {
    const { env, h, key } = await start({ schedule: { firstDelayMs: 100, maxLifetimeMs: 2500, jitter: 0 } });
    // Warm: token and pooled connection exist, so the attempts below are quick.
    expect((await post(h, key, { to: 'a@example.com', subject: 'warm' }, { prefer: 'wait=20' })).status).toBe(
      200,
    );
    env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Temporary server error', times: 'always' });
    const a = await json(await post(h, key, { to: 'a@example.com', subject: 'doomed' }));
    const failed = await until(h, a.id, (m) => m.status === 'failed');
    expect(failed.message.lastCode).toBe('SMTP_TRANSIENT');
    expect(failed.message.lastHint).toMatch(/^Gave up/);
    expect(failed.attempts.length).toBeGreaterThanOrEqual(1);
    expect(failed.attempts.every((a: Json) => a.outcome === 'transient')).toBe(true);
    expect(env.messages().filter((m) => m.messageId === a.messageId)).toHaveLength(0);
  });

  it('cancel a queued message; an operator retry re-sends with the same Message-ID; keys see only their own', async () => {
    const { env, h, key } = await start({ schedule: { firstDelayMs: 60_000 } });
    const fault = env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try later', times: 'always' });
    const a = await json(await post(h, key, { to: 'a@example.com', subject: 'steered' }));
    await until(h, a.id, (m) => m.status === 'queued' && m.attempts === 1);
    const cancelled = await h.api(`/api/messages/${a.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect((await json(cancelled)).message.status).toBe('cancelled');
    const twice = await h.api(`/api/messages/${a.id}/cancel`, { method: 'POST' });
    expect(twice.status).toBe(409);
    expect((await json(twice)).error.code).toBe('MESSAGE_NOT_QUEUED');

    // Another key cannot see it; its own key can, read-only.
    const key2 = await apiKey(h, 'other');
    const foreign = await h.api(`/api/messages/${a.id}`, {
      cookie: false,
      headers: { authorization: `Bearer ${key2}` },
    });
    expect(foreign.status).toBe(404);
    const own = await h.api(`/api/messages/${a.id}`, {
      cookie: false,
      headers: { authorization: `Bearer ${key}` },
    });
    expect((await json(own)).message.status).toBe('cancelled');
    const keyRetry = await h.api(`/api/messages/${a.id}/retry`, {
      method: 'POST',
      cookie: false,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(keyRetry.status).toBe(401);

    env.faults.smtp.clear(fault.id);
    const retried = await h.api(`/api/messages/${a.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    const sent = await until(h, a.id, (m) => m.status === 'sent');
    expect(sent.message.messageId).toBe(a.messageId);
    expect(env.messages().map((m) => m.messageId)).toEqual([a.messageId]);
    expect((await h.api(`/api/messages/${a.id}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await h.api('/api/messages/nope/cancel', { method: 'POST' })).status).toBe(404);
  });

  it('GET /api/messages: filtered by status and entry, newest first, paged', async () => {
    const { env, h, key, entryId } = await start({ schedule: { firstDelayMs: 60_000 } });
    env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected', times: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await json(await post(h, key, { to: 'a@example.com', subject: `list ${i}` }));
      ids.push(a.id);
      await until(h, a.id, (m) => m.status === 'sent' || m.status === 'failed');
    }
    const page1 = await json(await h.api('/api/messages?limit=3'));
    expect(page1.messages.map((m: Json) => m.id)).toEqual([ids[3], ids[2], ids[1]]);
    const page2 = await json(await h.api(`/api/messages?limit=3&before=${page1.next}`));
    expect(page2.messages.map((m: Json) => m.id)).toEqual([ids[0]]);
    const failed = await json(await h.api('/api/messages?status=failed'));
    expect(failed.messages.map((m: Json) => m.id)).toEqual([ids[0]]);
    const byEntry = await json(await h.api(`/api/messages?entryId=${entryId}&status=sent`));
    expect(byEntry.messages).toHaveLength(3);
    const bad = await h.api('/api/messages?status=lost');
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.issues[0].path).toBe('status');
  });

  it('raw MIME (the relay’s submissions) is delivered byte for byte through sendRaw', async () => {
    const { env, h, entryId } = await start();
    const messageId = '<raw-1@contoso.onmicrosoft.com>';
    const raw = Buffer.from(
      `From: ${env.mailbox}\r\nTo: b@example.com\r\nSubject: raw pass-through\r\nMessage-ID: ${messageId}\r\nX-Device: printer-7\r\n\r\nbody line\r\n`,
    );
    const accepted = await h.server.context.outbox.submit({
      entryId,
      source: { kind: 'relay', deviceId: 'printer-7' },
      content: { kind: 'raw', raw, envelope: { from: env.mailbox, to: ['b@example.com'] } },
      messageId,
    });
    expect(accepted).toMatchObject({ status: 'queued', duplicate: false, messageId });
    const delivered = await env.waitForMessage((m) => m.parsed.subject === 'raw pass-through', {
      timeoutMs: 30_000,
    });
    expect(delivered.raw.equals(raw)).toBe(true);
    expect(delivered.envelope.rcptTo).toEqual(['b@example.com']);
    const found = await until(h, accepted.id, (m) => m.status === 'sent');
    expect(found.message.source).toEqual({ kind: 'relay', id: 'printer-7' });
  });
});
