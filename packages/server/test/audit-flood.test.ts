import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { ADMIN, type Harness, type Json, json, secretEntry, startHarness } from './helpers/harness.js';

// Regression (issue 13 §7): 500 unauthenticated GET /api/audit in 1.3 s wrote 500 rows.

describeDrivers('the audit log cannot be flooded', (driver) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const rows = async () =>
    Number(
      (
        await h!.server.context.store.db
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('denials are aggregated per source and route per interval, then rate limited with 429', async () => {
    h = await startHarness(driver, { audit: { maxDeniedPerSource: 100, deniedIntervalMs: 60_000 } });
    const before = await rows();
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 25; batch++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => h!.api('/api/audit', { cookie: false }).then((r) => r.status)),
      );
      for (const s of results) statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    expect(statuses.get(401)).toBe(100);
    expect(statuses.get(429)).toBe(400);
    const limited = await h.api('/api/audit', { cookie: false });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // 500 denied requests: one record for the interval, counting the 100 that were processed.
    await h.server.context.audit.flush();
    expect((await rows()) - before).toBe(1);
    // The limit is per interval: once it is over, the same address may sign in again.
    h.clock.advance(61_000);
    expect((await h.login()).status).toBe(200);
    const { entries } = await json(await h.api('/api/audit?action=GET%20%2Fapi%2Faudit'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'denied', count: 100, address: expect.any(String) });

    // The next interval starts a new record.
    expect((await h.api('/api/email-servers', { cookie: false })).status).toBe(401);
    expect((await h.api('/api/email-servers', { cookie: false })).status).toBe(401);
    await h.server.context.audit.flush();
    const next = await json(await h.api('/api/audit?action=GET%20%2Fapi%2Femail-servers'));
    expect(next.entries).toEqual([expect.objectContaining({ count: 2 })]);
  });

  it('retention: records older than the configured days are deleted (default 90)', async () => {
    h = await startHarness(driver);
    const { repos, audit } = h.server.context;
    const now = h.clock.now().getTime();
    await repos.audit.append(
      { actor: 'system', action: 'old.one', outcome: 'ok' },
      new Date(now - 91 * 86_400_000),
    );
    await repos.audit.append(
      { actor: 'system', action: 'recent.one', outcome: 'ok' },
      new Date(now - 89 * 86_400_000),
    );
    expect(audit.policy.retentionDays).toBe(90);
    expect(await audit.cleanup()).toBe(1);
    const actions = (await repos.audit.list({ limit: 500 })).map((e) => e.action);
    expect(actions).toContain('recent.one');
    expect(actions).not.toContain('old.one');
  });

  it('filters by actor, action and target, and names the entry beside its id', async () => {
    h = await startHarness(driver);
    await h.login();
    const id = (await json(await h.api('/api/email-servers', { body: secretEntry({ name: 'Named entry' }) })))
      .emailServer.id;
    const byTarget = await json(await h.api(`/api/audit?target=${id}`));
    expect(byTarget.entries.map((e: Json) => [e.action, e.targetName])).toEqual([
      ['email-server.create', 'Named entry'],
    ]);
    const byActor = await json(await h.api(`/api/audit?actor=${encodeURIComponent(`admin:${ADMIN.email}`)}`));
    expect(new Set(byActor.entries.map((e: Json) => e.actor))).toEqual(new Set([`admin:${ADMIN.email}`]));
    const byAction = await json(await h.api('/api/audit?action=auth.login'));
    expect(byAction.entries.every((e: Json) => e.action === 'auth.login')).toBe(true);
    expect((await h.api('/api/audit?actor=')).status).toBe(400);
  });
});
