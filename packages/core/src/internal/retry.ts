import { isSmtpOAuthError } from '../errors/index.js';

/**
 * Resolves after `ms` milliseconds. The default `sleep` seam of everything that waits.
 *
 * The timer is deliberately not `unref()`'d: every wait here belongs to a pending send, verify or
 * token request, and a script whose only pending work is that request must not exit before it
 * settles (Node would end the process mid-operation, without running the caller's catch/finally).
 */
// Regression: an unref'd backoff timer let `await mailer.send()` end the process with exit 13.
export const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });

/** Retry policy for transient failures: bounded attempts, exponential backoff with jitter. */
export interface RetryOptions {
  /** Total attempts including the first. @default 4 */
  attempts?: number;
  /** Delay before the first retry, before jitter. @default 500 */
  baseDelayMs?: number;
  /** Upper bound of one backoff delay. @default 30000 */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the caller is willing to wait; a server asking for more fails at once
   * (bounded waiting). @default 60000
   */
  maxRetryAfterMs?: number;
  /** Waits between attempts; tests inject one that advances a fake clock. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

/** What a failed attempt means for the retry loop. */
export interface RetryDecision {
  retry: boolean;
  /** Server-mandated minimum wait (Retry-After), in ms. */
  retryAfterMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(options: RetryOptions | false | undefined): ResolvedRetry {
  const o = options === false ? { attempts: 1 } : (options ?? {});
  return {
    attempts: Math.max(1, Math.floor(o.attempts ?? 4)),
    baseDelayMs: o.baseDelayMs ?? 500,
    maxDelayMs: o.maxDelayMs ?? 30_000,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 60_000,
    sleep: o.sleep ?? defaultSleep,
    random: o.random ?? Math.random,
  };
}

/**
 * Backoff for retry number `retry` (0 = first retry): exponential, capped, with "equal jitter"
 * (half fixed, half random) so concurrent clients spread out but never retry immediately.
 */
export function backoffDelay(
  retry: number,
  policy: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(exp / 2 + policy.random() * (exp / 2));
}

/**
 * The default classification: typed errors marked transient are retried (429, 5xx, network,
 * SMTP 4xx), everything else is permanent. `details.retryAfterSeconds` becomes the minimum wait.
 */
export function classifyTransient(err: unknown): RetryDecision {
  if (!isSmtpOAuthError(err) || !err.transient) return { retry: false };
  const seconds = err.details.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds)
    ? { retry: true, retryAfterMs: seconds * 1000 }
    : { retry: true };
}

/**
 * Runs `fn` until it succeeds, fails permanently, or the attempts are used up. The last error is
 * rethrown unchanged.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: ResolvedRetry,
  classify: (err: unknown) => RetryDecision = classifyTransient,
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.attempts) throw err;
      const decision = classify(err);
      if (!decision.retry) throw err;
      if (decision.retryAfterMs !== undefined && decision.retryAfterMs > policy.maxRetryAfterMs) throw err;
      const backoff = backoffDelay(attempt - 1, policy);
      // Retry-After is a floor set by the server; jittered backoff on top of it would only delay more.
      const delayMs = decision.retryAfterMs !== undefined ? Math.max(decision.retryAfterMs, 0) : backoff;
      onRetry?.({ attempt, delayMs, error: err });
      await policy.sleep(delayMs);
    }
  }
}
