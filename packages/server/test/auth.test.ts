import { afterEach, describe, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { ADMIN, type Harness, json, startHarness } from './helpers/harness.js';

describeDrivers('admin authentication', (driver) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  describe('S11 sessions', () => {
    it('sets an HttpOnly, SameSite=Strict session cookie and answers /me', async () => {
      h = await startHarness(driver);
      const res = await h.login();
      expect(res.status).toBe(200);
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^smtp_oauth_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Path=/');
      expect(cookie).not.toContain('Secure');
      const me = await h.api('/api/auth/me');
      expect(me.status).toBe(200);
      expect((await json(me)).admin.email).toBe(ADMIN.email);
    });

    it('marks the cookie Secure (with the __Host- prefix) when SECURE_COOKIES is on', async () => {
      h = await startHarness(driver, { secureCookies: true });
      const res = await h.login();
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^__Host-smtp_oauth_session=/);
      expect(cookie).toContain('Secure');
      h.cookie = cookie.split(';')[0];
      expect((await h.api('/api/auth/me')).status).toBe(200);
    });

    it('issues a new session id at every login', async () => {
      h = await startHarness(driver);
      await h.login();
      const first = h.cookie;
      await h.api('/api/auth/login', { body: ADMIN });
      const second = (await h.login()).headers.get('set-cookie')!.split(';')[0];
      expect(second).not.toBe(first);
      // The session presented at login is ended, so a fixated id cannot survive it.
      expect((await h.api('/api/auth/me', { cookie: first! })).status).toBe(401);
    });

    it('logout invalidates the session server-side: the old id → 401', async () => {
      h = await startHarness(driver);
      await h.login();
      const old = h.cookie!;
      const out = await h.api('/api/auth/logout', { method: 'POST' });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
      expect((await h.api('/api/auth/me', { cookie: old })).status).toBe(401);
    });

    it('ends sessions after the idle timeout (injected clock)', async () => {
      h = await startHarness(driver, { session: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 } });
      await h.login();
      h.clock.advance(50_000);
      expect((await h.api('/api/auth/me')).status).toBe(200);
      h.clock.advance(50_000); // 50 s since the last request: still inside the idle window
      expect((await h.api('/api/auth/me')).status).toBe(200);
      h.clock.advance(61_000);
      expect((await h.api('/api/auth/me')).status).toBe(401);
    });

    it('ends sessions at the absolute timeout however active', async () => {
      h = await startHarness(driver, { session: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 180_000 } });
      await h.login();
      for (let i = 0; i < 3; i++) {
        h.clock.advance(50_000);
        expect((await h.api('/api/auth/me')).status).toBe(200);
      }
      h.clock.advance(40_000);
      expect((await h.api('/api/auth/me')).status).toBe(401);
    });

    it('rejects forged and missing cookies', async () => {
      h = await startHarness(driver);
      expect((await h.api('/api/auth/me')).status).toBe(401);
      expect((await h.api('/api/auth/me', { cookie: 'smtp_oauth_session=forged' })).status).toBe(401);
    });
  });

  describe('S13 login rate limit', () => {
    it('10 wrong passwords → 429 with Retry-After; then even the right password waits', async () => {
      h = await startHarness(driver);
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 10; i++) {
        last = await h.api('/api/auth/login', {
          body: { email: ADMIN.email, password: `wrong-${i}` },
          cookie: false,
        });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
      expect(statuses[9]).toBe(429);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      const right = await h.login();
      expect(right.status).toBe(429);
      expect((await json(right)).error.code).toBe('LOGIN_RATE_LIMITED');
      // The lock ends with time (injected clock).
      h.clock.advance(15 * 60_000 + 1_000);
      expect((await h.login()).status).toBe(200);
    });

    it('answers unknown accounts exactly like wrong passwords, and limits them too', async () => {
      h = await startHarness(driver);
      const known = await h.api('/api/auth/login', {
        body: { email: ADMIN.email, password: 'nope' },
        cookie: false,
      });
      const unknown = await h.api('/api/auth/login', {
        body: { email: 'ghost@example.test', password: 'nope' },
        cookie: false,
      });
      expect(unknown.status).toBe(known.status);
      expect(await json(unknown)).toEqual(await json(known));
      let res: Response | undefined;
      for (let i = 0; i < 9; i++) {
        res = await h.api('/api/auth/login', {
          body: { email: 'ghost@example.test', password: `x${i}` },
          cookie: false,
        });
      }
      expect(res!.status).toBe(429);
    });

    // Regression: counting after the password check let a concurrent burst get one guess per request.
    it('a concurrent burst of 40 guesses gets at most 10 password checks', async () => {
      h = await startHarness(driver);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          h
            .api('/api/auth/login', { body: { email: ADMIN.email, password: `burst-${i}` }, cookie: false })
            .then((r) => r.status),
        ),
      );
      expect(results.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
      expect(results.filter((s) => s !== 401 && s !== 429)).toEqual([]);
      expect((await h.login()).status).toBe(429);
    });

    it('limits per address across accounts', async () => {
      h = await startHarness(driver, { loginRateLimit: { maxFailuresPerAddress: 5 } });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await h.api('/api/auth/login', {
          body: { email: `user${i}@example.test`, password: 'x' },
          cookie: false,
        });
        statuses.push(r.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    });
  });

  describe('S12 CSRF', () => {
    it('refuses cross-origin forms, text/plain and foreign origins with 403', async () => {
      h = await startHarness(driver);
      await h.login();
      const form = await h.api('/api/api-keys', {
        method: 'POST',
        raw: 'name=evil',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      });
      expect(form.status).toBe(403);
      const text = await h.api('/api/api-keys', {
        method: 'POST',
        raw: '{"name":"x"}',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(403);
      expect((await json(text)).error.code).toBe('CSRF_CONTENT_TYPE');
      const foreign = await h.api('/api/api-keys', {
        body: { name: 'x' },
        headers: { origin: 'https://evil.example' },
      });
      expect(foreign.status).toBe(403);
      expect((await json(foreign)).error.code).toBe('CSRF_ORIGIN');
      const crossSite = await h.api('/api/api-keys', {
        body: { name: 'x' },
        headers: { origin: 'null', 'sec-fetch-site': 'cross-site' },
      });
      expect(crossSite.status).toBe(403);
      // Logout is state-changing too.
      const logout = await h.api('/api/auth/logout', {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
      });
      expect(logout.status).toBe(403);
      expect((await h.api('/api/auth/me')).status).toBe(200);
    });

    it('refuses a request with neither Origin nor Sec-Fetch-Site', async () => {
      h = await startHarness(driver);
      await h.login();
      const res = await fetch(`${h.url}/api/api-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: h.cookie! },
        body: JSON.stringify({ name: 'x' }),
      });
      expect(res.status).toBe(403);
    });

    it('accepts same-origin JSON by Origin or by Sec-Fetch-Site', async () => {
      h = await startHarness(driver);
      await h.login();
      expect((await h.api('/api/api-keys', { body: { name: 'a' } })).status).toBe(201);
      const res = await fetch(`${h.url}/api/api-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: h.cookie!, 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ name: 'b' }),
      });
      expect(res.status).toBe(201);
    });
  });

  it('S14: denied accesses are audited', async () => {
    h = await startHarness(driver);
    await h.api('/api/email-servers', { cookie: false });
    await h.api('/api/auth/login', { body: { email: ADMIN.email, password: 'wrong' }, cookie: false });
    await h.login();
    await h.api('/api/api-keys', { body: { name: 'x' }, headers: { origin: 'https://evil.example' } });
    const { entries } = await json(await h.api('/api/audit'));
    const denied = entries.filter((e: { outcome: string }) => e.outcome === 'denied');
    expect(denied.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['GET /api/email-servers', 'auth.login', 'POST /api/api-keys']),
    );
    expect(JSON.stringify(entries)).not.toContain('wrong');
  });
});
