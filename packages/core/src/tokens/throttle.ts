/**
 * The throttling state of one token provider (S9): when the token endpoint said "wait" (429 with
 * Retry-After) or failed (5xx, network), no request leaves before the time it gave, or before the
 * next step of a capped, jittered exponential backoff. Every caller of the provider shares it, so an
 * outage costs one request per backoff step however many senders ask — not one per send.
 */
import { isSmtpOAuthError, SmtpOAuthError } from '../errors/index.js';
import { backoffDelay, type ResolvedRetry } from '../internal/retry.js';

/** Backoff of the throttle when the caller sets none: 1 s, doubling, capped at 60 s (S9). */
export const TOKEN_BACKOFF_BASE_MS = 1_000;
export const TOKEN_BACKOFF_MAX_MS = 60_000;

/** Why requests are held back: the endpoint asked (429), or it is failing (5xx, network). */
export type TokenThrottleReason = 'throttled' | 'unavailable';

/** A snapshot of the throttle: no token request before `retryAt` (ms since the epoch). */
export interface TokenThrottleState {
  reason: TokenThrottleReason;
  retryAt: number;
  /** Transient failures in a row (the backoff step). */
  failures: number;
  /** Code of the last failure, e.g. `TOKEN_SERVICE_UNAVAILABLE`, `NETWORK_CONNECT`. */
  lastCode: string | undefined;
}

export interface TokenThrottle {
  /**
   * Throws the fast error when no request may be sent now.
   * @throws SmtpOAuthError `TOKEN_THROTTLED` or `TOKEN_SERVICE_UNAVAILABLE` with
   * `details.retryAfterMs`, `details.retryAfterSeconds` and `details.retryAt` (ISO 8601).
   */
  admit(): void;
  succeeded(): void;
  /** Records a failed request; permanent failures (4xx other than 429) leave the state alone. */
  failed(err: unknown): void;
  /** Milliseconds until the next request is allowed; 0 when one may go now. */
  waitMs(): number;
  /** The state while requests are held back or failures are counted; `undefined` when healthy. */
  state(): TokenThrottleState | undefined;
}

export interface TokenThrottleOptions {
  now: () => number;
  policy: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs' | 'random'>;
  /** The token endpoint's host, for messages. */
  host: string | undefined;
  /** The proxy the requests go through, for hints. */
  proxy?: string | undefined;
}

export function createTokenThrottle(options: TokenThrottleOptions): TokenThrottle {
  const { now, policy } = options;
  let retryAt = 0;
  let failures = 0;
  let reason: TokenThrottleReason = 'unavailable';
  let lastError: SmtpOAuthError | undefined;
  // The fast refusals this throttle raised: they are not new failures of the endpoint.
  const refusals = new WeakSet<object>();

  const endpoint = options.host ? `the token endpoint ${options.host}` : 'the token endpoint';
  return {
    admit() {
      const t = now();
      if (t >= retryAt) return;
      const retryAfterMs = retryAt - t;
      const when = new Date(retryAt).toISOString();
      const details = {
        retryAfterMs,
        retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
        retryAt: when,
        failures,
        ...(lastError ? { lastCode: lastError.code } : {}),
        ...(options.proxy ? { proxy: options.proxy } : {}),
      };
      const raise = (e: SmtpOAuthError): never => {
        refusals.add(e);
        throw e;
      };
      const via = options.proxy ? ` (through the proxy ${options.proxy})` : '';
      if (reason === 'throttled')
        raise(
          new SmtpOAuthError(
            'TOKEN_THROTTLED',
            `No token request to ${endpoint} before ${when}: it asked to wait (HTTP 429 Retry-After)`,
            {
              details,
              cause: lastError,
              transient: true,
              hint: `Retry after ${when} (in ${details.retryAfterSeconds} s). Senders holding a valid cached token keep sending meanwhile; share one token cache per app so the endpoint is not asked again.`,
            },
          ),
        );
      raise(
        new SmtpOAuthError(
          'TOKEN_SERVICE_UNAVAILABLE',
          `No token request to ${endpoint} before ${when}: ${failures} request(s) in a row failed${lastError ? ` (${lastError.code})` : ''}${via}`,
          {
            details,
            cause: lastError,
            transient: true,
            hint: `Retry after ${when} (in ${details.retryAfterSeconds} s); requests back off exponentially while ${endpoint} fails over HTTPS${via}. ${lastError?.hint ?? ''}`.trim(),
          },
        ),
      );
    },
    succeeded() {
      retryAt = 0;
      failures = 0;
      lastError = undefined;
    },
    failed(err) {
      if (!isSmtpOAuthError(err) || !err.transient || refusals.has(err)) return;
      lastError = err;
      failures += 1;
      const t = now();
      const backoff = backoffDelay(failures - 1, policy);
      const seconds = err.details.retryAfterSeconds;
      reason = err.code === 'TOKEN_THROTTLED' ? 'throttled' : 'unavailable';
      // Retry-After is the server's floor: no request before it, and no backoff on top of it.
      retryAt =
        typeof seconds === 'number' && Number.isFinite(seconds)
          ? t + Math.max(0, seconds * 1000)
          : t + backoff;
      // The caller learns when the next request may go, as from a fast refusal.
      err.details.retryAfterMs = retryAt - t;
      err.details.retryAt = new Date(retryAt).toISOString();
      if (seconds === undefined) err.details.retryAfterSeconds = Math.ceil((retryAt - t) / 1000);
    },
    waitMs: () => Math.max(0, retryAt - now()),
    state: () =>
      failures === 0 && retryAt <= now()
        ? undefined
        : { reason, retryAt, failures, lastCode: lastError?.code },
  };
}

/**
 * The throttle's backoff: the caller's `baseDelayMs`/`maxDelayMs` when set, else 1 s doubling to a
 * 60 s cap — a 2-minute outage then costs at most 9 requests even with the shortest jitter.
 */
export function throttlePolicy(
  retry:
    | {
        baseDelayMs?: number;
        maxDelayMs?: number;
        random?: () => number;
        sleep?: (ms: number) => Promise<void>;
      }
    | false
    | undefined,
): Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs' | 'random' | 'sleep'> {
  const o = retry === false || retry === undefined ? {} : retry;
  return {
    baseDelayMs: o.baseDelayMs ?? TOKEN_BACKOFF_BASE_MS,
    maxDelayMs: o.maxDelayMs ?? TOKEN_BACKOFF_MAX_MS,
    random: o.random ?? Math.random,
    sleep: o.sleep ?? keepAliveSleep,
  };
}

/**
 * The wait between token attempts. Unlike an unref'd timer it keeps Node running: a caller awaiting
 * a token (a CLI run, a script) must see it settle, not watch the process exit mid-retry.
 */
const keepAliveSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });

/**
 * Runs one token request under the throttle: admitted or refused fast, its outcome recorded; with
 * `retry`, transient failures are retried after the throttle's wait while it stays within
 * `maxRetryAfterMs` and the attempts last.
 */
export async function requestThrottled<T>(
  throttle: TokenThrottle,
  request: () => Promise<T>,
  policy: ResolvedRetry,
  retry: boolean,
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throttle.admit();
    try {
      const result = await request();
      throttle.succeeded();
      return result;
    } catch (err) {
      throttle.failed(err);
      if (!retry || attempt >= policy.attempts || !isSmtpOAuthError(err) || !err.transient) throw err;
      const delayMs = throttle.waitMs();
      if (delayMs > policy.maxRetryAfterMs) throw err;
      onRetry?.({ attempt, delayMs, error: err });
      await policy.sleep(delayMs);
    }
  }
}
