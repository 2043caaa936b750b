import { isSmtpOAuthError } from '../errors/index.js';
import { type Logger, safeLogger } from '../internal/logger.js';
import { classifyTransient, type RetryOptions, resolveRetry, withRetry } from '../internal/retry.js';
import type { AccessToken, GetTokenOptions, TokenProvider } from './types.js';
import { expectObject, expectTokenProvider } from '../internal/guard.js';

const MIN_REFRESH_AHEAD_MS = 5 * 60_000;
// A token this close to expiry is not handed out even when a refresh failed: the SMTP session it
// is for would likely outlive it.
const LAST_RESORT_MARGIN_MS = 30_000;

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Clock, ms since the epoch; must be the same clock as the provider's. @default Date.now */
  now?: () => number;
  /**
   * Refresh a cached token this long before it expires (at least 5 minutes, as Microsoft
   * recommends). @default 600000 plus up to 120000 of jitter (HVE refuses tokens within ~10 min of expiry)
   */
  refreshAheadMs?: number;
  /**
   * Retries around the provider. The providers of this package retry on their own, so this is off
   * by default; set it when wrapping a provider that does not. @default false
   */
  retry?: RetryOptions | false;
  logger?: Logger;
}

/** A {@link TokenProvider} that caches: single flight, proactive refresh, invalidation. */
export interface TokenCache extends TokenProvider {
  /**
   * Drops the cached token so the next {@link TokenProvider.getToken} fetches a new one. With
   * `accessToken`, only if that is still the cached one — so many senders that saw the same token
   * rejected cause one refresh, not many.
   */
  invalidate(accessToken?: string): void;
  /** The cached token if any, without fetching (and without checking expiry). */
  peek(): AccessToken | undefined;
}

/**
 * Wraps a provider in an in-memory cache. Concurrent callers share one in-flight request (N callers
 * → 1 token request); a token within `refreshAheadMs` of expiry is refreshed before use; if that
 * refresh fails while the old token is still valid, the old token is used and the failure logged,
 * and until a refresh succeeds callers get the valid token at once while refreshes run in the
 * background, paced by the provider's throttle (S9: no request before Retry-After, one per backoff
 * step). Only when no valid token is left do callers fail — fast, with `TOKEN_THROTTLED` or
 * `TOKEN_SERVICE_UNAVAILABLE` and `details.retryAfterMs` / `details.retryAt`.
 *
 * @example
 * const tokens = createTokenCache(createTokenProvider(config));
 * const { accessToken } = await tokens.getToken();
 */
export function createTokenCache(provider: TokenProvider, options: TokenCacheOptions = {}): TokenCache {
  expectTokenProvider(provider);
  expectObject(options, 'options');
  const now = options.now ?? Date.now;
  // Exchange's HVE endpoint refuses a token with less than ~10 minutes left (501 5.5.127): refresh
  // 10–12 minutes ahead, jittered so that many instances do not refresh in the same second.
  const refreshAheadMs = options.refreshAheadMs ?? 600_000 + Math.floor(Math.random() * 120_000);
  if (!(refreshAheadMs >= MIN_REFRESH_AHEAD_MS))
    throw new RangeError(
      `refreshAheadMs must be at least ${MIN_REFRESH_AHEAD_MS} ms (5 minutes), got ${refreshAheadMs}`,
    );
  const policy = options.retry ? resolveRetry(options.retry) : undefined;
  const log = safeLogger(options.logger);
  let cached: AccessToken | undefined;
  let fetchedAt = 0;
  let inflight: Promise<AccessToken> | undefined;
  // Set when a refresh failed while the cached token was still valid: until one succeeds, callers
  // get the cached token at once and refreshes run in the background.
  let refreshFailing = false;

  // A token that lives shorter than twice the refresh margin would never count as fresh and be
  // refetched on every call; for those, refresh at half-life instead.
  const fresh = (t: AccessToken | undefined): t is AccessToken =>
    !!t && now() < t.expiresAt - Math.min(refreshAheadMs, (t.expiresAt - fetchedAt) / 2);
  const usable = (t: AccessToken | undefined): t is AccessToken =>
    !!t && now() < t.expiresAt - LAST_RESORT_MARGIN_MS;

  async function fetchToken(): Promise<AccessToken> {
    // One request per call: the provider's throttle paces requests (no request before Retry-After
    // or the next backoff step), and a caller without a valid token learns at once when to retry.
    const request = () => provider.getToken({ forceRefresh: true, retry: false });
    const startedAt = now();
    const token = policy ? await withRetry(request, policy, classifyWithThrottle) : await request();
    cached = token;
    fetchedAt = startedAt;
    refreshFailing = false;
    return token;
  }

  // The cache's own retries wait for the provider's throttle rather than guess a backoff of their own.
  function classifyWithThrottle(err: unknown) {
    const decision = classifyTransient(err);
    const state = provider.throttleState?.();
    if (!decision.retry || !state) return decision;
    return { retry: true, retryAfterMs: Math.max(decision.retryAfterMs ?? 0, state.retryAt - now()) };
  }

  function refresh(): Promise<AccessToken> {
    if (!inflight) {
      inflight = fetchToken().finally(() => {
        inflight = undefined;
      });
    }
    return inflight;
  }

  function keepCached(previous: AccessToken, err: unknown): AccessToken {
    if (!refreshFailing)
      log.log('warn', 'Token refresh failed; using the cached token until it expires', {
        code: isSmtpOAuthError(err) ? err.code : undefined,
        expiresAt: previous.expiresAt,
      });
    refreshFailing = true;
    return previous;
  }

  return {
    getToken(opts: GetTokenOptions = {}) {
      if (opts.forceRefresh === true) return refresh();
      const previous = cached;
      if (fresh(previous)) return Promise.resolve(previous);
      if (!usable(previous)) return refresh();
      if (refreshFailing || provider.throttleState?.()) {
        // The endpoint is failing: serve the valid token now, refresh behind the caller's back.
        if (!inflight && (provider.throttleState?.()?.retryAt ?? 0) <= now())
          refresh().catch((err) => {
            log.log('debug', 'Background token refresh failed', {
              code: isSmtpOAuthError(err) ? err.code : undefined,
            });
          });
        return Promise.resolve(previous);
      }
      return refresh().catch((err) => {
        if (cached === previous && usable(previous)) return keepCached(previous, err);
        throw err;
      });
    },
    invalidate(accessToken) {
      if (accessToken === undefined || cached?.accessToken === accessToken) cached = undefined;
    },
    peek: () => cached,
  };
}
