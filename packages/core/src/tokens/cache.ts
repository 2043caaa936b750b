import { isSmtpOAuthError } from '../errors/index.js';
import { type Logger, safeLogger } from '../internal/logger.js';
import { type RetryOptions, resolveRetry, withRetry } from '../internal/retry.js';
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
 * refresh fails while the old token is still valid, the old token is used and the failure logged.
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

  // A token that lives shorter than twice the refresh margin would never count as fresh and be
  // refetched on every call; for those, refresh at half-life instead.
  const fresh = (t: AccessToken | undefined): t is AccessToken =>
    !!t && now() < t.expiresAt - Math.min(refreshAheadMs, (t.expiresAt - fetchedAt) / 2);

  async function fetchToken(force: boolean): Promise<AccessToken> {
    const previous = cached;
    try {
      const request = () => provider.getToken({ forceRefresh: true });
      const startedAt = now();
      const token = policy ? await withRetry(request, policy) : await request();
      cached = token;
      fetchedAt = startedAt;
      return token;
    } catch (err) {
      if (!force && previous && cached === previous && now() < previous.expiresAt - LAST_RESORT_MARGIN_MS) {
        log.log('warn', 'Proactive token refresh failed; using the cached token until it expires', {
          code: isSmtpOAuthError(err) ? err.code : undefined,
          expiresAt: previous.expiresAt,
        });
        return previous;
      }
      throw err;
    }
  }

  return {
    getToken(opts: GetTokenOptions = {}) {
      const force = opts.forceRefresh === true;
      if (!force && fresh(cached)) return Promise.resolve(cached);
      if (!inflight) {
        inflight = fetchToken(force).finally(() => {
          inflight = undefined;
        });
      }
      return inflight;
    },
    invalidate(accessToken) {
      if (accessToken === undefined || cached?.accessToken === accessToken) cached = undefined;
    },
    peek: () => cached,
  };
}
