import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { requireApiKey } from '../src/auth/api-keys.js';
import { errorHandler } from '../src/http/errors.js';
import { createServer } from '../src/server.js';
import { describeDrivers } from './helpers/drivers.js';
import {
  createCapturingLogger,
  type Harness,
  type Json,
  json,
  secretEntry,
  startHarness,
  testKeyRing,
} from './helpers/harness.js';

describeDrivers('HTTP surface', (driver) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  describe('S15 bad input → 4xx JSON with field paths, never a 500', () => {
    it('malformed JSON, wrong types, unknown fields, missing body', async () => {
      h = await startHarness(driver);
      await h.login();
      const malformed = await h.api('/api/api-keys', { method: 'POST', raw: '{"name": ' });
      expect(malformed.status).toBe(400);
      expect((await json(malformed)).error.code).toBe('INVALID_JSON');

      const wrongType = await h.api('/api/api-keys', { body: { name: 42 } });
      expect(wrongType.status).toBe(400);
      expect((await json(wrongType)).error.issues).toEqual([
        { path: 'name', message: 'Expected a string, got number' },
      ]);

      const unknown = await h.api('/api/api-keys', { body: { name: 'ok', admin: true } });
      expect((await json(unknown)).error.issues).toEqual([{ path: 'admin', message: 'Unknown field' }]);

      const scalar = await h.api('/api/api-keys', { method: 'POST', raw: '"just a string"' });
      expect(scalar.status).toBe(400);

      const empty = await h.api('/api/api-keys', { method: 'POST' });
      expect(empty.status).toBe(400);
      expect((await json(empty)).error.code).toBe('VALIDATION_FAILED');

      const array = await h.api('/api/email-servers', { body: [1, 2] });
      expect(array.status).toBe(400);

      const badQuery = await h.api('/api/audit?limit=abc&x=1');
      expect(badQuery.status).toBe(400);
      expect((await json(badQuery)).error.issues.map((i: Json) => i.path).sort()).toEqual(['limit', 'x']);

      const badLogin = await h.api('/api/auth/login', {
        body: { email: ['a'], password: null },
        cookie: false,
      });
      expect(badLogin.status).toBe(400);
      expect((await json(badLogin)).error.issues.map((i: Json) => i.path)).toEqual(['email', 'password']);
    });

    it('huge bodies → 413; a certificate-sized upload (~600 KB) fits', async () => {
      h = await startHarness(driver);
      await h.login();
      const huge = await h.api('/api/api-keys', { body: { name: 'x'.repeat(2 * 1024 * 1024) } });
      expect(huge.status).toBe(413);
      expect((await json(huge)).error.code).toBe('BODY_TOO_LARGE');
      const e = secretEntry();
      const pfx = {
        ...e,
        auth: { ...e.auth, credential: { kind: 'pfx', pfxBase64: 'QUJD'.repeat(150_000) } },
      };
      const res = await h.api('/api/email-servers', { body: pfx });
      expect(res.status).not.toBe(413);
      expect(res.status).toBeLessThan(500);
    });

    it('unsupported encodings and charsets → 415', async () => {
      h = await startHarness(driver);
      await h.login();
      const gz = await h.api('/api/api-keys', {
        body: { name: 'x' },
        headers: { 'content-encoding': 'br-nope' },
      });
      expect(gz.status).toBe(415);
      const cs = await h.api('/api/api-keys', {
        body: { name: 'x' },
        headers: { 'content-type': 'application/json; charset=latin-9' },
      });
      expect(cs.status).toBe(415);
    });

    // Regression: NUL in a path id or login email reached PostgreSQL (which rejects NUL in text) → 500.
    it('NUL characters in ids, queries and strings → 4xx on every driver', async () => {
      h = await startHarness(driver);
      expect(
        (await h.api('/api/auth/login', { body: { email: 'a\u0000b', password: 'x' }, cookie: false }))
          .status,
      ).toBe(400);
      await h.login();
      expect((await h.api('/api/email-servers/%00')).status).toBe(404);
      expect((await h.api('/api/api-keys/%00', { method: 'DELETE' })).status).toBe(404);
      expect((await h.api('/api/audit?before=%00')).status).toBe(400);
      expect((await h.api('/api/api-keys', { body: { name: 'x\u0000' } })).status).toBe(400);
    });

    it('unknown API routes → 404 JSON', async () => {
      h = await startHarness(driver);
      const res = await h.api('/api/nope');
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('NOT_FOUND');
    });
  });

  it('security headers: CSP for the admin UI, no framing, no sniffing', async () => {
    h = await startHarness(driver);
    const res = await h.api('/api/health');
    expect(await json(res)).toEqual({ status: 'ok' });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the admin UI with SPA fallback; /api stays JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'admin-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><div id="app"></div><script type="module" src="/assets/app.js"></script>',
    );
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
    try {
      h = await startHarness(driver, { adminUiDir: dir });
      const root = await h.api('/');
      expect(root.status).toBe(200);
      expect(await root.text()).toContain('id="app"');
      const deep = await h.api('/email-servers/123/edit');
      expect(await deep.text()).toContain('id="app"');
      const asset = await h.api('/assets/app.js');
      expect(asset.headers.get('content-type')).toContain('javascript');
      expect((await h.api('/api/unknown')).headers.get('content-type')).toContain('application/json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves an OpenAPI 3.1 document built from the schemas', async () => {
    h = await startHarness(driver);
    const doc = await json(await h.api('/api/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/login',
        '/api/api-keys',
        '/api/email-servers',
        '/api/email-servers/{id}',
        '/api/audit',
      ]),
    );
    const input = doc.components.schemas.EmailServerConfigInput;
    expect(input.properties.auth).toBeDefined();
    expect(input.properties.host).toBeDefined();
    expect(
      doc.paths['/api/auth/login'].post.requestBody.content['application/json'].schema.additionalProperties,
    ).toBe(false);
  });

  it('API keys: shown once, stored hashed, listed by prefix, revocable; Bearer auth for apps', async () => {
    h = await startHarness(driver);
    await h.login();
    const created = await h.api('/api/api-keys', { body: { name: 'billing app' } });
    expect(created.status).toBe(201);
    const { apiKey, key } = await json(created);
    expect(key).toMatch(/^smtpo_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(apiKey.prefix)).toBe(true);
    const list = await json(await h.api('/api/api-keys'));
    expect(JSON.stringify(list)).not.toContain(key);
    expect(list.apiKeys[0]).toMatchObject({ name: 'billing app', prefix: apiKey.prefix, revokedAt: null });
    const rows = await h.server.context.store.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(key);

    // The middleware the send API will use.
    const app = express();
    app.get('/probe', requireApiKey(h.server.context), (_req, res) => {
      res.json(res.locals.apiKey);
    });
    app.use(errorHandler(h.logger));
    const probe = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const probeUrl = `http://127.0.0.1:${(probe.address() as import('node:net').AddressInfo).port}/probe`;
    try {
      const ok = await fetch(probeUrl, { headers: { authorization: `Bearer ${key}` } });
      expect(await json(ok)).toEqual({ id: apiKey.id, name: 'billing app' });
      const none = await fetch(probeUrl);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const wrong = await fetch(probeUrl, { headers: { authorization: `Bearer ${key.slice(0, -2)}xx` } });
      expect(wrong.status).toBe(401);

      expect((await h.api(`/api/api-keys/${apiKey.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await h.api(`/api/api-keys/${apiKey.id}`, { method: 'DELETE' })).status).toBe(404);
      const revoked = await fetch(probeUrl, { headers: { authorization: `Bearer ${key}` } });
      expect(revoked.status).toBe(401);
      expect((await json(await h.api('/api/api-keys'))).apiKeys[0].revokedAt).not.toBeNull();
    } finally {
      await new Promise((r) => probe.close(r));
    }
    const { entries } = await json(await h.api('/api/audit'));
    expect(entries.map((e: Json) => e.action)).toEqual(
      expect.arrayContaining(['api-key.create', 'api-key.revoke']),
    );
    expect(JSON.stringify(entries)).not.toContain(key);
  });

  it('sent log: newest first, paged, filtered by server; never bodies', async () => {
    h = await startHarness(driver);
    await h.login();
    const repo = h.server.context.repos.sentLog;
    for (let i = 0; i < 5; i++) {
      await repo.append(
        {
          serverId: i % 2 ? 's1' : 's2',
          apiKeyId: null,
          recipientCount: i + 1,
          status: i === 4 ? 'failed' : 'sent',
          errorCode: i === 4 ? 'SMTP_AUTH_REJECTED' : null,
          serverReply: i === 4 ? '535 5.7.3 Authentication unsuccessful' : '250 2.0.0 OK',
        },
        h.clock.now(),
      );
    }
    const page1 = await json(await h.api('/api/sent-log?limit=2'));
    expect(page1.entries.map((e: Json) => e.recipientCount)).toEqual([5, 4]);
    expect(page1.entries[0]).toMatchObject({ status: 'failed', errorCode: 'SMTP_AUTH_REJECTED' });
    const page2 = await json(await h.api(`/api/sent-log?limit=2&before=${page1.next}`));
    expect(page2.entries.map((e: Json) => e.recipientCount)).toEqual([3, 2]);
    const s1 = await json(await h.api('/api/sent-log?serverId=s1'));
    expect(s1.entries.map((e: Json) => e.recipientCount)).toEqual([4, 2]);
  });
});

describe('lifecycle', () => {
  it('graceful shutdown lets an in-flight request finish, then refuses connections', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-shutdown-'));
    const server = await createServer({
      store: { dataDir },
      keyRing: testKeyRing(),
      logger: createCapturingLogger(),
      admin: { password: 'lifecycle test passphrase' },
      passwordHashing: { N: 1024, r: 8, p: 1 },
      adminUiDir: false,
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    server.app.get('/slow', async (_req, res) => {
      await gate;
      res.json({ done: true });
    });
    // Added after createApp's catch-alls: move the route to the front of the stack so it is reachable.
    server.app.router.stack.unshift(server.app.router.stack.pop()!);
    const { url } = await server.listen(0);
    const inflight = fetch(`${url}/slow`).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close();
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await inflight).toEqual({ done: true });
    await closed;
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('first start without ADMIN_PASSWORD hands a one-time password to the entry point, never to the logger', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-first-'));
    const logger = createCapturingLogger();
    const shown: string[] = [];
    const opts = {
      store: { dataDir },
      keyRing: testKeyRing(),
      logger,
      passwordHashing: { N: 1024, r: 8, p: 1 },
      adminUiDir: false as const,
      admin: { onGeneratedPassword: (_e: string, p: string) => shown.push(p) },
    };
    const server = await createServer(opts);
    expect(shown).toHaveLength(1);
    const { url, close } = await server.listen(0);
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ email: 'admin@localhost', password: shown[0] }),
    });
    expect(res.status).toBe(200);
    await close();
    await server.close();
    // Second start: the admin exists, nothing is generated again.
    const again = await createServer(opts);
    await again.close();
    expect(shown).toHaveLength(1);
    expect(logger.lines.join('\n')).not.toContain(shown[0]);
    await rm(dataDir, { recursive: true, force: true });
  });
});
