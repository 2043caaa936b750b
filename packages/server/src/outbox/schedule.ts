/**
 * When a transiently failed message is tried again: Postfix's queue manager in spirit
 * (`minimal_backoff_time` doubling up to `maximal_backoff_time`, postconf(5)), with the first retry
 * inside a minute and the gap growing to an hour, and a maximum lifetime after which the message
 * is given up (Postfix `maximal_queue_lifetime`, default 5 d; ours 24 h, what an application waits).
 */
export interface RetrySchedule {
  /** Delay before the first retry, ms. @default 30000 */
  firstDelayMs: number;
  /** Largest delay between attempts, ms. @default 3600000 (hourly) */
  maxDelayMs: number;
  /** After this long since acceptance a message that still fails transiently is `failed`. @default 86400000 */
  maxLifetimeMs: number;
  /** ± this fraction of randomness, so messages failed together do not retry together. @default 0.1 */
  jitter: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  firstDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  maxLifetimeMs: 86_400_000,
  jitter: 0.1,
};

/**
 * Delay after failed attempt number `attempt` (1-based): first, 2×, 4×, … capped at the maximum;
 * never shorter than the server's `Retry-After` (`retryAfterMs`).
 */
export function retryDelayMs(
  schedule: RetrySchedule,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = base * (1 + schedule.jitter * (2 * random() - 1));
  return Math.max(Math.round(jittered), retryAfterMs ?? 0);
}
