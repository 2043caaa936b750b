/** What the Outbox page says about states, actions and limits: one home, unit-tested. */
import type { OutboxAttempt, OutboxStatus } from '../api/client.js';

export const STATUS_LABELS: Record<OutboxStatus, string> = {
  queued: 'Queued',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Failed',
  unknown: 'Outcome unknown',
  cancelled: 'Cancelled',
};

/** The badge tone of a state. */
export function statusTone(status: OutboxStatus): 'ok' | 'warn' | 'fail' | 'info' | 'skipped' {
  switch (status) {
    case 'sent':
      return 'ok';
    case 'failed':
      return 'fail';
    case 'unknown':
      return 'warn';
    case 'cancelled':
      return 'skipped';
    default:
      return 'info';
  }
}

/** The server's rule (POST /api/messages/{id}/cancel): only a queued message can be cancelled. */
export const canCancel = (status: OutboxStatus): boolean => status === 'queued';

/**
 * The server's rule (POST /api/messages/{id}/retry): failed, unknown or cancelled messages can be
 * sent again (with the same Message-ID).
 */
export const canRetry = (status: OutboxStatus): boolean =>
  status === 'failed' || status === 'unknown' || status === 'cancelled';

/** What the confirmation says before an action: the consequence, plainly. */
export function confirmText(action: 'cancel' | 'retry', status: OutboxStatus): string {
  if (action === 'cancel') return 'Cancel this message? It will not be delivered.';
  return status === 'unknown'
    ? 'Send it again? It may have arrived already: the recipient could get it twice.'
    : 'Send it again with the same Message-ID?';
}

export const OUTCOME_LABELS: Record<OutboxAttempt['outcome'], string> = {
  sent: 'Sent',
  transient: 'Temporary failure',
  permanent: 'Refused',
  unknown: 'Outcome unknown',
  interrupted: 'Interrupted',
};

/** One usage bar: how much of a limit is used, and how close it is to the limit. */
export interface UsageBar {
  used: number;
  /** null: this limit is off. */
  limit: number | null;
  /** 0–100 (capped), 0 when the limit is off. */
  percent: number;
  level: 'ok' | 'high' | 'full';
  /** "2 of 3", "12 of 30", "1,204 (no limit)". */
  text: string;
}

const number = new Intl.NumberFormat(undefined);

/** At 80 % a bar turns amber; at the limit red (the governor holds further sends back). */
export function usageBar(used: number, limit: number | null): UsageBar {
  if (limit === null || limit <= 0)
    return { used, limit: null, percent: 0, level: 'ok', text: `${number.format(used)} (no limit)` };
  const ratio = used / limit;
  return {
    used,
    limit,
    percent: Math.min(100, Math.round(ratio * 100)),
    level: ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : 'ok',
    text: `${number.format(used)} of ${number.format(limit)}`,
  };
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h": the oldest queued message's age. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** Where a message came from, in words. */
export function sourceLabel(source: { kind: string }): string {
  if (source.kind === 'api') return 'API key';
  if (source.kind === 'relay') return 'SMTP relay';
  if (source.kind === 'admin') return 'WebAdmin';
  return source.kind;
}
