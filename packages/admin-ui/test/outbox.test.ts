import { describe, expect, it } from 'vitest';
import { OUTBOX_STATUSES } from '../src/api/client.js';
import {
  canCancel,
  canRetry,
  confirmText,
  formatAge,
  STATUS_LABELS,
  statusTone,
  usageBar,
} from '../src/lib/outbox.js';

describe('the Outbox page’s rules', () => {
  it('offers Cancel for queued messages only and Retry for failed, unknown and cancelled ones (the server’s rules)', () => {
    expect(OUTBOX_STATUSES.filter(canCancel)).toEqual(['queued']);
    expect(OUTBOX_STATUSES.filter(canRetry)).toEqual(['failed', 'unknown', 'cancelled']);
    // Never both, and nothing for a message in flight or sent.
    for (const s of OUTBOX_STATUSES) expect(canCancel(s) && canRetry(s)).toBe(false);
    expect(canCancel('sending') || canRetry('sending') || canCancel('sent') || canRetry('sent')).toBe(false);
  });

  it('warns before re-sending a message whose outcome is unknown (it may arrive twice)', () => {
    expect(confirmText('retry', 'unknown')).toMatch(/twice/);
    expect(confirmText('retry', 'failed')).not.toMatch(/twice/);
    expect(confirmText('cancel', 'queued')).toMatch(/not be delivered/);
  });

  it('labels and tones every state', () => {
    for (const s of OUTBOX_STATUSES) expect(STATUS_LABELS[s]).toBeTruthy();
    expect(statusTone('sent')).toBe('ok');
    expect(statusTone('failed')).toBe('fail');
    expect(statusTone('unknown')).toBe('warn');
  });
});

describe('usage bars', () => {
  it('shows used of limit, amber from 80 %, red at the limit, capped at 100 %', () => {
    expect(usageBar(0, 3)).toMatchObject({ percent: 0, level: 'ok', text: '0 of 3' });
    expect(usageBar(23, 30)).toMatchObject({ percent: 77, level: 'ok' });
    expect(usageBar(24, 30)).toMatchObject({ percent: 80, level: 'high' });
    expect(usageBar(30, 30)).toMatchObject({ percent: 100, level: 'full', text: '30 of 30' });
    // A 432 from a client outside our control can push the count past the limit.
    expect(usageBar(4, 3)).toMatchObject({ percent: 100, level: 'full' });
  });

  it('a limit that is off shows the count and no bar', () => {
    expect(usageBar(12, null)).toEqual({
      used: 12,
      limit: null,
      percent: 0,
      level: 'ok',
      text: '12 (no limit)',
    });
  });
});

describe('ages', () => {
  it('seconds, minutes, hours with minutes, days with hours', () => {
    expect(formatAge(0)).toBe('0 s');
    expect(formatAge(59.4)).toBe('59 s');
    expect(formatAge(60)).toBe('1 min');
    expect(formatAge(3599)).toBe('59 min');
    expect(formatAge(3600)).toBe('1 h');
    expect(formatAge(3600 + 5 * 60)).toBe('1 h 5 min');
    expect(formatAge(2 * 86_400 + 4 * 3600)).toBe('2 d 4 h');
    expect(formatAge(-3)).toBe('0 s');
  });
});
