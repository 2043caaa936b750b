import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertionRequest,
  call,
  expectEntraError,
  secretRequest,
  signAssertion,
  startTokenFixture,
  type TokenFixture,
} from './fixtures/token.js';

let fx: TokenFixture;
beforeAll(async () => {
  fx = await startTokenFixture();
});
afterAll(() => fx.close());
afterEach(() => {
  fx.server.faults.clear();
  fx.server.clearRequests();
});

describe('fault injection', () => {
  it('429 with Retry-After once, then normal service', async () => {
    fx.server.faults.add({ action: { type: 'status', status: 429, retryAfter: 7 } });
    const first = await secretRequest(fx);
    expectEntraError(first, 429, 'temporarily_unavailable', 90055);
    expect(first.headers['retry-after']).toBe('7');
    expect((await secretRequest(fx)).status).toBe(200);
    const log = fx.server.requests();
    expect(log.map((r) => r.fault)).toEqual(['status 429 retry-after 7', undefined]);
    expect(log[0]?.outcome).toEqual({ error: 'temporarily_unavailable', aadsts: 90055 });
  });

  it('nth: only the 2nd matching request gets a 503', async () => {
    fx.server.faults.add({ nth: 2, action: { type: 'status', status: 503 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await secretRequest(fx)).status);
    expect(statuses).toEqual([200, 503, 200, 200]);
  });

  it('times: a number, and always; matching by clientId and tenant', async () => {
    const other = fx.directory.registerApp(fx.tenantId);
    const otherSecret = fx.directory.addSecret(other.clientId);
    fx.server.faults.add({
      times: 2,
      match: { clientId: fx.clientId },
      action: { type: 'status', status: 500 },
    });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        (await secretRequest(fx, { client_id: other.clientId, client_secret: otherSecret.value })).status,
      );
      codes.push((await secretRequest(fx)).status);
    }
    expect(codes).toEqual([200, 500, 200, 500, 200, 200]);
    fx.server.faults.clear();
    fx.server.faults.add({
      times: 'always',
      match: { tenant: fx.tenantId.toUpperCase() },
      action: { type: 'status', status: 503 },
    });
    for (let i = 0; i < 3; i++) expect((await secretRequest(fx)).status).toBe(503);
  });

  it('a custom body is sent verbatim', async () => {
    fx.server.faults.add({
      action: { type: 'status', status: 503, body: '<html>Service Unavailable</html>' },
    });
    const r = await secretRequest(fx);
    expect(r.status).toBe(503);
    expect(r.text).toBe('<html>Service Unavailable</html>');
  });

  it('delay holds the reply, then answers normally', async () => {
    fx.server.faults.add({ action: { type: 'delay', ms: 300 } });
    const t0 = Date.now();
    const r = await secretRequest(fx);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(r.status).toBe(200);
    expect(fx.server.requests()[0]).toMatchObject({ fault: 'delay 300ms', outcome: 'issued' });
  });

  it('malformed-json: 200 with a body that does not parse', async () => {
    fx.server.faults.add({ action: { type: 'malformed-json' } });
    const r = await secretRequest(fx);
    expect(r.status).toBe(200);
    expect(() => JSON.parse(r.text)).toThrow();
  });

  it('reset: the connection is dropped without a reply', async () => {
    fx.server.faults.add({ action: { type: 'reset' } });
    await expect(secretRequest(fx)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(fx.server.requests()[0]).toMatchObject({ fault: 'reset', status: 0 });
    expect((await secretRequest(fx)).status).toBe(200);
  });

  it('discovery endpoints are only hit when the match names their path', async () => {
    fx.server.faults.add({ times: 'always', action: { type: 'status', status: 500 } });
    const doc = await call(fx.server, { path: `/${fx.tenantId}/v2.0/.well-known/openid-configuration` });
    expect(doc.status).toBe(200);
    fx.server.faults.clear();
    fx.server.faults.add({
      match: { path: '/.well-known/openid-configuration' },
      action: { type: 'status', status: 503 },
    });
    expect(
      (await call(fx.server, { path: `/${fx.tenantId}/v2.0/.well-known/openid-configuration` })).status,
    ).toBe(503);
    expect((await secretRequest(fx)).status).toBe(200);
  });

  it('counts per rule and validates its spec', async () => {
    const f = fx.server.faults.add({ nth: 3, action: { type: 'status', status: 503 } });
    await secretRequest(fx);
    expect(fx.server.faults.list()[0]).toMatchObject({ id: f.id, seen: 1, fired: 0 });
    fx.server.faults.remove(f.id);
    expect(fx.server.faults.list()).toEqual([]);
    expect(() => fx.server.faults.add({ nth: 0, action: { type: 'reset' } })).toThrow(RangeError);
    expect(() => fx.server.faults.add({ times: 0, action: { type: 'reset' } })).toThrow(RangeError);
  });
});

describe('request log', () => {
  it('records who asked, how, and the outcome — never a secret, assertion or token', async () => {
    const ok = await secretRequest(fx);
    const bad = await secretRequest(fx, { client_secret: `${fx.secret.value}x` });
    const assertion = await signAssertion(fx, { alg: 'RS256' });
    const viaCert = await assertionRequest(fx, assertion);
    const basic = Buffer.from(`${fx.clientId}:${fx.secret.value}`).toString('base64');
    await call(fx.server, {
      path: `/${fx.tenantId}/oauth2/v2.0/token`,
      form: { grant_type: 'client_credentials', scope: 'https://outlook.office365.com/.default' },
      headers: { Authorization: `Basic ${basic}` },
    });
    await secretRequest(fx, { client_secret: undefined });

    const log = fx.server.requests();
    expect(log.map((r) => [r.authMethod, r.outcome])).toEqual([
      ['secret-body', 'issued'],
      ['secret-body', { error: 'invalid_client', aadsts: 7000215 }],
      ['assertion-rs256', 'issued'],
      ['secret-basic', 'issued'],
      ['none', { error: 'invalid_client', aadsts: 7000218 }],
    ]);
    expect(log[0]).toMatchObject({
      tenant: fx.tenantId,
      clientId: fx.clientId,
      grant: 'client_credentials',
      scope: 'https://outlook.office365.com/.default',
      status: 200,
    });
    expect(typeof log[0]?.at).toBe('number');

    const dump = JSON.stringify(log);
    expect(dump).not.toContain(fx.secret.value);
    expect(dump).not.toContain(assertion);
    expect(dump).not.toContain(ok.json.access_token);
    expect(dump).not.toContain(viaCert.json.access_token);
    expect(dump).not.toContain(basic);
    expect(bad.status).toBe(401);

    fx.server.clearRequests();
    expect(fx.server.requests()).toEqual([]);
  });

  it('returns copies: mutating them does not change the log', async () => {
    await secretRequest(fx);
    const copy = fx.server.requests();
    copy[0]!.clientId = 'tampered';
    expect(fx.server.requests()[0]?.clientId).toBe(fx.clientId);
  });
});
