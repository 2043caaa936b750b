import type { MailboxLimits, Refusal } from './types.js';

/** One mailbox's recent messages, as the windows see them. */
export interface WindowState {
  /** Messages in the last `windowMs`: count and the oldest time. */
  minute: { count: number; oldest: number | undefined };
  /** Recipients in the last 24 h: sum and the oldest time. */
  day: { recipients: number; oldest: number | undefined };
}

export const DAY_MS = 86_400_000;

/** How soon a mailbox whose connections are all taken is asked again (ms). */
export const CONNECTION_RETRY_MS = 250;

/** The connections a mailbox may have open: its limit less the share given up after 432s, at least one. */
export function connectionShare(limits: MailboxLimits, shrink: number): number {
  return Math.max(1, limits.maxConnections - shrink);
}

/**
 * The connection decision both stores share: may one more SMTP connection of the mailbox open now,
 * with `active` leases held (all instances)? A busy mailbox is asked again shortly.
 */
export function decideConnection(
  limits: MailboxLimits,
  active: number,
  now: number,
  shrink: number,
): Refusal | undefined {
  if (active >= connectionShare(limits, shrink))
    return { admitted: false, retryAt: now + CONNECTION_RETRY_MS, reason: 'connections' };
  return undefined;
}

/**
 * The message decision both stores share: may one more message of `recipients` go out now? Asked
 * again when the oldest message leaves the per-minute or the per-day window.
 */
export function decideWindows(
  limits: MailboxLimits,
  state: WindowState,
  recipients: number,
  now: number,
  windowMs: number,
): Refusal | undefined {
  if (state.minute.count >= limits.messagesPerMinute)
    return { admitted: false, retryAt: (state.minute.oldest ?? now) + windowMs, reason: 'rate' };
  if (state.day.recipients > 0 && state.day.recipients + recipients > limits.recipientsPerDay)
    return { admitted: false, retryAt: (state.day.oldest ?? now) + DAY_MS, reason: 'recipients' };
  return undefined;
}

/** After a 432: one connection fewer for this long, and no new connection or message for the backoff. */
export const SHRINK_MS = 300_000;
export const BACKOFF_MS = 30_000;
