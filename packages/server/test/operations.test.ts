import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import type { CreateServerOptions } from '../src/server.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

describeDrivers('operations: health, readiness, metrics, the mailer-thread watchdog', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = undefined;
    env = undefined;
  });

  async function start(
    extra: Partial<Omit<CreateServerOptions, 'store'>> = {},
    entry: Record<string, unknown> = {},
  ) {
    env = await createTestEnvironment({ limits: false });
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
      outbox: { pollMs: 100 },
      ...extra,
    });
    await h.login();
    expect((await h.api('/api/email-servers', { body: { ...kit.config, ...entry } })).status).toBe(201);
    const key = (await json(await h.api('/api/api-keys', { body: { name: 'ops' } }))).key as string;
    const send = (subject: string, wait = 20) =>
      h!.api('/api/send', {
        body: { to: 'a@example.com', subject },
        cookie: false,
        headers: { authorization: `Bearer ${key}`, prefer: `wait=${wait}` },
      });
    return { env: kit, h, send };
  }

  it('/api/health is liveness only; /api/ready checks the database, the mailer thread and the outbox', async () => {
    const { h, send } = await start();
    expect(await json(await h.api('/api/health'))).toEqual({ status: 'ok' });
    expect((await send('warm')).status).toBe(200);
    const ready = await h.api('/api/ready');
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({
      status: 'ready',
      checks: { database: 'ok', mailerThread: 'ok', outbox: 'ok' },
    });
  });

  it('/metrics: queue depth by state, oldest queued age, attempts by code, token requests, leases per mailbox', async () => {
    // A governed entry (its own limits), so the connection-lease gauge has a mailbox.
    const { env, h, send } = await start({}, { limits: { maxConnections: 3, messagesPerMinute: 1000 } });
    expect((await send('one')).status).toBe(200);
    env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
    expect((await send('two')).status).toBe(502);
    // The connection stays open (and leased) for the next message while idle, then closes; its
    // lease is given back a moment after (the linger).
    const leases = `smtp_oauth_governor_connection_leases{mailbox="127.0.0.1|${env.mailbox.toLowerCase()}"} 0`;
    let res = await fetch(`${h.url}/metrics`);
    for (let until = Date.now() + 30_000; Date.now() < until; ) {
      if ((await res.clone().text()).includes(leases)) break;
      await new Promise((r) => setTimeout(r, 200));
      res = await fetch(`${h.url}/metrics`);
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('smtp_oauth_outbox_messages{state="sent"} 1');
    expect(text).toContain('smtp_oauth_outbox_messages{state="failed"} 1');
    expect(text).toContain('smtp_oauth_outbox_messages{state="queued"} 0');
    expect(text).toContain('smtp_oauth_outbox_oldest_queued_age_seconds 0');
    expect(text).toContain('smtp_oauth_outbox_attempts_total{outcome="sent",code=""} 1');
    expect(text).toMatch(/smtp_oauth_outbox_attempts_total\{outcome="permanent",code="SMTP_[A-Z_]+"\} 1/);
    expect(text).toContain('smtp_oauth_token_requests_total{outcome="ok"} 1');
    expect(text).toContain(leases);
    expect(text).toContain('smtp_oauth_process_cpu_seconds_total');
  });

  it('watchdog: a hung call into the mailer thread fails with MAILER_CALL_TIMEOUT (outcome unknown), the thread is replaced', async () => {
    const { env, h, send } = await start({ mailerCallTimeoutMs: 8000 });
    expect((await send('before')).status).toBe(200);
    // The server holds the end of DATA far longer than the watchdog allows: the call hangs.
    const hang = env.faults.smtp.add({ stage: 'data-end', delayMs: 60_000, times: 1 });
    const hung = await send('hung');
    expect(hung.status).toBe(502);
    const error = (await json(hung)).error;
    expect(error.code).toBe('MAILER_CALL_TIMEOUT');
    expect(error.details.status).toBe('unknown');
    env.faults.smtp.clear(hang.id);
    // A new thread serves the next message.
    const after = await send('after');
    expect(after.status, await after.clone().text()).toBe(200);
    expect(h.logger.lines.some((l) => l.includes('mailer thread replaced'))).toBe(true);
    const ready = (await json(await h.api('/api/ready'))) as Json;
    expect(ready.checks.mailerThread).toBe('ok');
  });
});
