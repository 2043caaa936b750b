/**
 * The careful token client (S9, S10; issue 18 §3), measured against the testkit's token server with
 * scripted faults and a frozen clock: the figures are request counts, never timings.
 */
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSmtpOAuthError, type SmtpOAuthError } from '../src/errors/index.js';
import { createTokenCache } from '../src/tokens/cache.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';
import type { TokenProvider } from '../src/tokens/types.js';

const SENDS_PER_SECOND = 10;
const OUTAGE_MS = 120_000;

describe.each(['oauth2', 'entra'] as const)('token throttle (%s provider)', (kind) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment({ clock: { frozen: true } });
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(() => env.reset());

  // Requests of the provider still in flight: a background refresh takes milliseconds of real time,
  // while sends are 100 ms of clock time apart, so the simulation lets each finish before moving on.
  let pending = 0;
  // random: () => 0 picks the shortest jittered wait at every step: the most requests possible.
  const provider = (random: () => number = () => 0): TokenProvider => {
    const base = {
      tokenEndpoint: env.tokenEndpoint,
      clientId: env.clientId,
      scope: env.scope,
      credential: { kind: 'secret' as const, secret: env.clientSecret },
      ca: env.caPem,
      now: env.clock.now,
      retry: { random, sleep: async (ms: number) => env.clock.advance(ms) },
    };
    const inner = kind === 'oauth2' ? createOAuth2TokenProvider(base) : createEntraTokenProvider(base);
    return {
      getToken(options) {
        pending += 1;
        return inner.getToken(options).finally(() => {
          pending -= 1;
        });
      },
      throttleState: () => inner.throttleState?.(),
    };
  };
  const settled = async () => {
    while (pending > 0) await new Promise((r) => setTimeout(r, 1));
  };

  /** `SENDS_PER_SECOND` callers a second for `durationMs` of clock time; what each got. */
  async function sends(get: () => Promise<unknown>, durationMs: number) {
    const end = env.clock.now() + durationMs;
    const outcomes: Array<{ ok: true } | { ok: false; error: SmtpOAuthError }> = [];
    while (env.clock.now() < end) {
      try {
        await get();
        outcomes.push({ ok: true });
      } catch (err) {
        if (!isSmtpOAuthError(err)) throw err;
        outcomes.push({ ok: false, error: err });
      }
      await settled();
      env.clock.advance(1000 / SENDS_PER_SECOND);
    }
    return outcomes;
  }
  const requestsBetween = (from: number, to: number) =>
    env.tokenRequests().filter((r) => r.at >= from && r.at < to).length;

  it('S9: a 2-minute 503 outage at 10 sends/s without a valid token costs at most 10 token requests', async () => {
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    const cache = createTokenCache(provider(), { now: env.clock.now });
    const start = env.clock.now();
    const outcomes = await sends(() => cache.getToken(), OUTAGE_MS);
    const requests = requestsBetween(start, start + OUTAGE_MS);
    if (process.env.REPORT_TOKEN_COUNTS) console.info(`[${kind}] 503 outage: ${requests} requests`);
    expect(outcomes).toHaveLength(1200);
    expect(requests).toBeLessThanOrEqual(10);
    expect(requests).toBeGreaterThanOrEqual(5); // it does keep trying, once per backoff step
    const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(failures).toHaveLength(1200);
    expect(new Set(failures.map((e) => e.code))).toEqual(new Set(['TOKEN_SERVICE_UNAVAILABLE']));
    // Every caller learns when to retry.
    for (const e of failures) {
      expect(e.details.retryAfterMs).toEqual(expect.any(Number));
      expect(Date.parse(String(e.details.retryAt))).toBeGreaterThan(start);
    }
    // The outage ends: the next caller after the backoff step gets a token.
    env.faults.token.clear();
    env.clock.advance(60_000);
    await expect(cache.getToken()).resolves.toHaveProperty('accessToken');
  });

  it('S9: with real jitter the outage stays within 10 requests too', async () => {
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    const cache = createTokenCache(provider(Math.random), { now: env.clock.now });
    const start = env.clock.now();
    await sends(() => cache.getToken(), OUTAGE_MS);
    if (process.env.REPORT_TOKEN_COUNTS)
      console.info(`[${kind}] 503 outage, random jitter: ${requestsBetween(start, start + OUTAGE_MS)}`);
    expect(requestsBetween(start, start + OUTAGE_MS)).toBeLessThanOrEqual(10);
  });

  it('S9: after 429 Retry-After: 120 exactly one request in the 120 s, and callers are told when', async () => {
    env.faults.token.add({ action: { type: 'status', status: 429, retryAfter: 120 }, times: 'always' });
    const cache = createTokenCache(provider(), { now: env.clock.now });
    const start = env.clock.now();
    const outcomes = await sends(() => cache.getToken(), 120_000);
    if (process.env.REPORT_TOKEN_COUNTS)
      console.info(`[${kind}] 429 Retry-After 120: ${requestsBetween(start, start + 120_000)}`);
    expect(requestsBetween(start, start + 120_000)).toBe(1);
    const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(failures).toHaveLength(1200);
    expect(new Set(failures.map((e) => e.code))).toEqual(new Set(['TOKEN_THROTTLED']));
    expect(failures.at(-1)?.details.retryAt).toBe(new Date(start + 120_000).toISOString());
    // At Retry-After the endpoint is asked again (once).
    env.faults.token.clear();
    await expect(cache.getToken()).resolves.toHaveProperty('accessToken');
    expect(requestsBetween(start, start + 121_000)).toBe(2);
  });

  it('S9: the bare provider (the CLI token command) shares the same throttle across calls', async () => {
    env.faults.token.add({ action: { type: 'status', status: 429, retryAfter: 120 }, times: 'always' });
    const bare = provider();
    const start = env.clock.now();
    const outcomes = await sends(() => bare.getToken(), 2_000);
    expect(outcomes.every((o) => !o.ok && o.error.code === 'TOKEN_THROTTLED')).toBe(true);
    expect(requestsBetween(start, start + 2_000)).toBe(1);
  });

  it('S10: a refresh that fails while the token is valid serves the cached token; refreshes stay paced', async () => {
    const cache = createTokenCache(provider(), { now: env.clock.now });
    const first = await cache.getToken();
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    // Inside the refresh window (5 min before expiry), a 2-minute outage.
    env.clock.set(first.expiresAt - 5 * 60_000 + 1_000);
    const start = env.clock.now();
    const tokens: string[] = [];
    const outcomes = await sends(async () => tokens.push((await cache.getToken()).accessToken), OUTAGE_MS);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(new Set(tokens)).toEqual(new Set([first.accessToken]));
    if (process.env.REPORT_TOKEN_COUNTS)
      console.info(`[${kind}] 503 outage, valid token: ${requestsBetween(start, start + OUTAGE_MS)}`);
    expect(requestsBetween(start, start + OUTAGE_MS)).toBeLessThanOrEqual(10);
    // The outage ends: a background refresh replaces the token without any caller failing.
    env.faults.token.clear();
    env.clock.advance(60_000);
    await cache.getToken();
    await expect.poll(() => cache.peek()?.accessToken, { timeout: 10_000 }).not.toBe(first.accessToken);
  });

  it('S10: callers holding a valid token never wait for a failing refresh', async () => {
    const cache = createTokenCache(provider(), { now: env.clock.now });
    const first = await cache.getToken();
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    env.clock.set(first.expiresAt - 2 * 60_000);
    // The first caller meets the failure (one request, no in-call retries) and keeps the token.
    expect((await cache.getToken()).accessToken).toBe(first.accessToken);
    expect(env.tokenRequests()).toHaveLength(2);
    // From now on the endpoint counts as failing: the cached token is answered before any request,
    // and the refresh runs behind the caller's back once the backoff step has passed.
    env.clock.advance(70_000); // past the first backoff step, still 50 s before expiry
    let answered = false;
    const p = cache.getToken().then((t) => {
      answered = true;
      return t;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toBe(true);
    expect((await p).accessToken).toBe(first.accessToken);
    await expect.poll(() => env.tokenRequests().length, { timeout: 10_000 }).toBe(3);
  });

  it('S9: the backoff doubles per failure from 1 s and is capped at 60 s (equal jitter)', async () => {
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    const bare = provider(() => 0.5);
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      await bare.getToken({ retry: false }).catch(() => undefined);
      const wait = (bare.throttleState?.()?.retryAt ?? 0) - env.clock.now();
      waits.push(wait);
      env.clock.advance(wait);
    }
    expect(env.tokenRequests()).toHaveLength(9);
    // Equal jitter with random 0.5: three quarters of min(60 s, 1 s · 2ⁿ).
    const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60].map((s) => s * 750);
    expect(waits).toEqual(expected);
  });

  it('S10: once the cached token has expired, callers fail fast with when to retry', async () => {
    const cache = createTokenCache(provider(), { now: env.clock.now });
    const first = await cache.getToken();
    env.faults.token.add({ action: { type: 'status', status: 503 }, times: 'always' });
    env.clock.set(first.expiresAt + 1);
    const err = await cache.getToken().catch((e: SmtpOAuthError) => e);
    expect(err).toMatchObject({ code: 'TOKEN_SERVICE_UNAVAILABLE', transient: true });
    const again = (await cache.getToken().catch((e: SmtpOAuthError) => e)) as SmtpOAuthError;
    expect(again).toMatchObject({ code: 'TOKEN_SERVICE_UNAVAILABLE' });
    expect(again.details.retryAfterMs).toBeGreaterThan(0);
    expect(env.tokenRequests()).toHaveLength(2); // the first token, then one failed refresh
  });
});
