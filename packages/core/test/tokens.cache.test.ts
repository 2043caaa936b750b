import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenCache } from '../src/tokens/cache.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';
import type { TokenProvider } from '../src/tokens/types.js';

describe('createTokenCache', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(() => env.reset());

  const entra = (): TokenProvider =>
    createEntraTokenProvider({
      tokenEndpoint: env.tokenEndpoint,
      clientId: env.clientId,
      scope: env.scope,
      credential: { kind: 'secret', secret: env.clientSecret },
      ca: env.caPem,
      now: env.clock.now,
      retry: false,
    });

  it('S10: 100 concurrent getToken → exactly 1 token request', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => cache.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(env.tokenRequests()).toHaveLength(1);
    // and later callers are served from memory
    await cache.getToken();
    expect(env.tokenRequests()).toHaveLength(1);
  });

  // The default margin is 10–12 min (jittered): HVE refuses tokens with less than ~10 min left.
  it('S10: at expiry − 9.5 min the token is refreshed before use; at expiry − 12.5 min it is not', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const first = await cache.getToken();
    env.clock.set(first.expiresAt - 12.5 * 60_000);
    expect((await cache.getToken()).accessToken).toBe(first.accessToken);
    expect(env.tokenRequests()).toHaveLength(1);
    env.clock.set(first.expiresAt - 9.5 * 60_000);
    const second = await cache.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(env.tokenRequests()).toHaveLength(2);
  });

  it('concurrent callers during a proactive refresh share one request', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const first = await cache.getToken();
    env.clock.set(first.expiresAt - 60_000);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(env.tokenRequests()).toHaveLength(2);
  });

  it('invalidate() drops the token; invalidate(stale) after a refresh is a no-op', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const a = await cache.getToken();
    cache.invalidate();
    expect(cache.peek()).toBeUndefined();
    const b = await cache.getToken();
    expect(b.accessToken).not.toBe(a.accessToken);
    cache.invalidate(a.accessToken); // another sender still holding the old token
    expect(cache.peek()?.accessToken).toBe(b.accessToken);
    expect(env.tokenRequests()).toHaveLength(2);
  });

  it('forceRefresh fetches even when the cached token is fresh', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const a = await cache.getToken();
    const b = await cache.getToken({ forceRefresh: true });
    expect(b.accessToken).not.toBe(a.accessToken);
    expect(env.tokenRequests()).toHaveLength(2);
  });

  it('a failed proactive refresh falls back to the still-valid token; an expired one throws', async () => {
    const cache = createTokenCache(entra(), { now: env.clock.now });
    const first = await cache.getToken();
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    env.clock.set(first.expiresAt - 2 * 60_000);
    expect((await cache.getToken()).accessToken).toBe(first.accessToken);
    env.clock.set(first.expiresAt + 1);
    await expect(cache.getToken()).rejects.toMatchObject({ code: 'TOKEN_SERVICE_UNAVAILABLE' });
  });

  it('permanent failures are not cached: the next call asks again', async () => {
    const provider = createOAuth2TokenProvider({
      tokenEndpoint: env.tokenEndpoint,
      clientId: env.clientId,
      scope: env.scope,
      credential: { kind: 'secret', secret: 'wrong' },
      ca: env.caPem,
      now: env.clock.now,
    });
    const cache = createTokenCache(provider, { now: env.clock.now });
    await expect(cache.getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLIENT_SECRET' });
    await expect(cache.getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLIENT_SECRET' });
    expect(env.tokenRequests()).toHaveLength(2);
  });

  it('retry option retries a provider that does not retry itself', async () => {
    env.faults.token.add({ action: { type: 'status', status: 502 } });
    const sleeps: number[] = [];
    const cache = createTokenCache(entra(), {
      now: env.clock.now,
      // The provider's throttle admits the retry only once its backoff step has passed on the clock.
      retry: {
        attempts: 2,
        sleep: async (ms) => {
          sleeps.push(ms);
          env.clock.advance(ms);
        },
      },
    });
    await expect(cache.getToken()).resolves.toHaveProperty('accessToken');
    expect(env.tokenRequests().map((r) => r.status)).toEqual([502, 200]);
    expect(sleeps).toHaveLength(1);
  });

  it('refuses refreshAheadMs below 5 minutes', () => {
    expect(() => createTokenCache(entra(), { refreshAheadMs: 60_000 })).toThrow(RangeError);
  });
});

describe('createTokenCache with short-lived tokens', () => {
  it('refreshes at half-life when the token lives less than twice the refresh margin', async () => {
    const env = await createTestEnvironment({ tokenTtlSeconds: 240 });
    try {
      const cache = createTokenCache(
        createOAuth2TokenProvider({
          tokenEndpoint: env.tokenEndpoint,
          clientId: env.clientId,
          scope: env.scope,
          credential: { kind: 'secret', secret: env.clientSecret },
          ca: env.caPem,
          now: env.clock.now,
        }),
        { now: env.clock.now },
      );
      const first = await cache.getToken();
      await cache.getToken();
      expect(env.tokenRequests()).toHaveLength(1);
      env.clock.set(first.expiresAt - 60_000);
      expect((await cache.getToken()).accessToken).not.toBe(first.accessToken);
      expect(env.tokenRequests()).toHaveLength(2);
    } finally {
      await env.close();
    }
  });
});

describe('token endpoint timeouts', () => {
  it('a token endpoint slower than timeoutMs → NETWORK_TIMEOUT (transient)', async () => {
    const env = await createTestEnvironment();
    try {
      env.faults.token.add({ action: { type: 'delay', ms: 1_000 } });
      const provider = createOAuth2TokenProvider({
        tokenEndpoint: env.tokenEndpoint,
        clientId: env.clientId,
        scope: env.scope,
        credential: { kind: 'secret', secret: env.clientSecret },
        ca: env.caPem,
        timeoutMs: 200,
        retry: false,
      });
      await expect(provider.getToken()).rejects.toMatchObject({ code: 'NETWORK_TIMEOUT', transient: true });
    } finally {
      await env.close();
    }
  });
});
