import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/server.js';
import { describeDrivers } from './helpers/drivers.js';
import { ADMIN, type Harness, type Json, json, startHarness, testKeyRing } from './helpers/harness.js';

// Regression (issue 13 §4): ADMIN_PASSWORD=a was accepted, the password could not be changed, and
// there was exactly one admin.

describeDrivers('admins: password policy, password change, several admins', (driver) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a weak ADMIN_PASSWORD is refused at first start, naming the rule', async () => {
    const store = await driver.freshStore();
    try {
      for (const [password, rule] of [
        ['a', /at least 12 characters/],
        ['Password1234', /known common password/],
        ['aaaaaaaaaaaaaaaa', /too easy to guess/],
      ] as const) {
        await expect(
          createServer({
            store: store.options,
            keyRing: testKeyRing(),
            adminUiDir: false,
            admin: { password },
          }),
        ).rejects.toMatchObject({ code: 'ADMIN_PASSWORD_WEAK', message: expect.stringMatching(rule) });
      }
    } finally {
      await store.cleanup();
    }
  });

  it('change password: current one required, policy applied, every other session ends', async () => {
    h = await startHarness(driver);
    await h.login();
    const mine = h.cookie;
    await h.login();
    const other = h.cookie;
    h.cookie = mine;
    const change = (body: unknown) => h!.api('/api/auth/password', { body });

    const wrong = await change({
      currentPassword: 'not it at all',
      newPassword: 'a fresh passphrase for tests',
    });
    expect(wrong.status).toBe(403);
    expect((await json(wrong)).error.issues).toEqual([{ path: 'currentPassword', message: 'is wrong' }]);
    const weak = await change({ currentPassword: ADMIN.password, newPassword: 'iloveyou1234' });
    expect(weak.status).toBe(400);
    expect((await json(weak)).error).toMatchObject({
      code: 'PASSWORD_POLICY',
      issues: [{ path: 'newPassword', message: expect.stringContaining('common password') }],
    });
    const short = await change({ currentPassword: ADMIN.password, newPassword: 'Zq8#k' });
    expect((await json(short)).error.issues[0].message).toMatch(/at least 12 characters/);

    const ok = await change({ currentPassword: ADMIN.password, newPassword: 'a fresh passphrase for tests' });
    expect(ok.status).toBe(204);
    expect((await h.api('/api/auth/me')).status).toBe(200);
    expect((await h.api('/api/auth/me', { cookie: other! })).status).toBe(401);
    expect((await h.login()).status).toBe(401);
    expect((await h.login({ email: ADMIN.email, password: 'a fresh passphrase for tests' })).status).toBe(
      200,
    );

    const audit = (await json(await h.api('/api/audit'))).entries as Json[];
    expect(audit.find((e) => e.action === 'admin.password-change' && e.outcome === 'ok')).toMatchObject({
      actor: `admin:${ADMIN.email}`,
      fields: ['password'],
    });
    expect(JSON.stringify(audit)).not.toContain('fresh passphrase');
  });

  it('invite and remove admins; not yourself, not the last; audited with who did it', async () => {
    h = await startHarness(driver);
    await h.login();
    const invited = await h.api('/api/admins', { body: { email: 'second@example.test' } });
    expect(invited.status).toBe(201);
    const { admin, oneTimePassword } = await json(invited);
    expect(admin.email).toBe('second@example.test');
    expect((await h.api('/api/admins', { body: { email: 'second@example.test' } })).status).toBe(409);

    // The invited admin signs in with the one-time password and removes the first admin.
    const first = h.cookie;
    expect((await h.login({ email: 'second@example.test', password: oneTimePassword })).status).toBe(200);
    const list = (await json(await h.api('/api/admins'))).admins as Json[];
    expect(list.map((a) => a.email).sort()).toEqual([ADMIN.email, 'second@example.test']);
    const firstId = list.find((a) => a.email === ADMIN.email).id;
    expect((await h.api(`/api/admins/${admin.id}`, { method: 'DELETE' })).status).toBe(409); // yourself
    expect((await h.api(`/api/admins/${firstId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.api('/api/auth/me', { cookie: first! })).status).toBe(401);
    expect((await h.api(`/api/admins/${admin.id}`, { method: 'DELETE' })).status).toBe(409); // the last

    const audit = (await json(await h.api('/api/audit'))).entries as Json[];
    expect(audit.find((e) => e.action === 'admin.invite')).toMatchObject({
      actor: `admin:${ADMIN.email}`,
      target: 'second@example.test',
    });
    expect(audit.find((e) => e.action === 'admin.remove')).toMatchObject({
      actor: 'admin:second@example.test',
      target: ADMIN.email,
    });
    expect(JSON.stringify(audit)).not.toContain(oneTimePassword);
  });
});
