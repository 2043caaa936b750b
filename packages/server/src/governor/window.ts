import type { Admission, MailboxLimits } from './types.js';

/** One mailbox's recent sends, as the windows see them. */
export interface WindowState {
  /** Connection leases held now (all instances). */
  active: number;
  /** Sends in the last `windowMs`: count and the oldest time. */
  minute: { count: number; oldest: number | undefined };
  /** Recipients in the last 24 h: sum and the oldest time. */
  day: { recipients: number; oldest: number | undefined };
}

export const DAY_MS = 86_400_000;

/**
 * The one decision both stores share: may one more send of `recipients` start now? Connections
 * first (a busy mailbox is asked again shortly), then the per-minute and per-day windows (asked
 * again when their oldest send leaves the window).
 */
export function decide(
  limits: MailboxLimits,
  state: WindowState,
  recipients: number,
  now: number,
  windowMs: number,
  shrink: number,
): Exclude<Admission, { admitted: true }> | undefined {
  const maxConnections = Math.max(1, limits.maxConnections - shrink);
  if (state.active >= maxConnections) return { admitted: false, retryAt: now + 250, reason: 'connections' };
  if (state.minute.count >= limits.messagesPerMinute)
    return { admitted: false, retryAt: (state.minute.oldest ?? now) + windowMs, reason: 'rate' };
  if (state.day.recipients > 0 && state.day.recipients + recipients > limits.recipientsPerDay)
    return { admitted: false, retryAt: (state.day.oldest ?? now) + DAY_MS, reason: 'recipients' };
  return undefined;
}

/** After a 432: one connection fewer for this long, and no new send for the backoff. */
export const SHRINK_MS = 300_000;
export const BACKOFF_MS = 30_000;
