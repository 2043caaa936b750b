import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, secretEntry, startHarness } from './helpers/harness.js';

// Regression (issue 13 §4): any API key sent through any entry, as any From address.

describeDrivers('API keys are bound to entries, From addresses and source ranges', (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = env = undefined;
  });

  it('a new key defaults to the default entry; anything outside its binding is a 403 naming it', async () => {
    env = await createTestEnvironment();
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'], resolveHost: async () => ['52.96.0.10'] },
    });
    const harness = h;
    await harness.login();
    const kitId = (await json(await harness.api('/api/email-servers', { body: kit.config }))).emailServer.id;
    const otherId = (
      await json(await harness.api('/api/email-servers', { body: secretEntry({ name: 'Other' }) }))
    ).emailServer.id;
    const created = await json(await harness.api('/api/api-keys', { body: { name: 'app' } }));
    expect(created.apiKey.scope).toEqual({ emailServerIds: [kitId], allowedFrom: [], allowedSources: [] });
    const key = created.key as string;
    const send = async (extra: Record<string, unknown> = {}) => {
      const res = await harness.api('/api/send', {
        body: { to: 'someone@example.com', subject: 'scope', text: 'x', ...extra },
        cookie: false,
        // Wait for the outcome, so a delivered message answers 200 (the outbox's 202 otherwise).
        headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    expect((await send()).status).toBe(200);

    const otherEntry = await send({ server: 'Other' });
    expect(otherEntry.status).toBe(403);
    expect(otherEntry.body.error).toMatchObject({
      code: 'API_KEY_SCOPE',
      message: expect.stringContaining('"Other"'),
      hint: expect.stringContaining(kitId),
      issues: [{ path: 'server' }],
    });

    const setScope = (body: unknown) =>
      harness.api(`/api/api-keys/${created.apiKey.id}/scope`, { method: 'PUT', body });
    // From: an address or a domain.
    expect((await setScope({ emailServerIds: [kitId], allowedFrom: ['contoso.com'] })).status).toBe(200);
    const wrongFrom = await send();
    expect(wrongFrom.status).toBe(403);
    expect(wrongFrom.body.error.issues).toEqual([
      { path: 'from', message: expect.stringContaining(kit.config.user) },
    ]);
    const domain = kit.config.user.split('@')[1];
    expect((await setScope({ emailServerIds: [kitId], allowedFrom: [domain] })).status).toBe(200);
    expect((await send()).status).toBe(200);
    expect((await send({ from: 'Spoof <ceo@contoso.com>' })).status).toBe(403);

    // Source ranges (the test client is 127.0.0.1).
    expect(
      (await setScope({ emailServerIds: [kitId], allowedSources: ['10.0.0.0/8', '2001:db8::/32'] })).status,
    ).toBe(200);
    const wrongSource = await send();
    expect(wrongSource.status).toBe(403);
    expect(wrongSource.body.error.issues[0].path).toBe('(source address)');
    expect((await setScope({ emailServerIds: [kitId], allowedSources: ['127.0.0.0/8'] })).status).toBe(200);
    expect((await send()).status).toBe(200);

    // Several entries.
    expect((await setScope({ emailServerIds: [kitId, otherId] })).status).toBe(200);
    expect((await send({ server: 'Other' })).status).not.toBe(403);

    // A binding that names nothing real is refused with the field.
    const bad = await setScope({
      emailServerIds: ['nope'],
      allowedFrom: ['not an address'],
      allowedSources: ['10.0.0.0/99'],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.issues.map((i: Json) => i.path)).toEqual([
      'emailServerIds[0]',
      'allowedFrom[0]',
      'allowedSources[0]',
    ]);

    // Every change is audited with who did it and which part changed.
    const { entries } = await json(await harness.api('/api/audit'));
    const scopeChanges = entries.filter((e: Json) => e.action === 'api-key.scope');
    expect(scopeChanges[0]).toMatchObject({
      actor: 'admin:admin@example.test',
      fields: ['scope.emailServerIds', 'scope.allowedSources'],
    });
  }, 120_000);
});
