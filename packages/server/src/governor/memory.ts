import type { Admission, Governor, Mailbox, MailboxUsage } from './types.js';
import { BACKOFF_MS, DAY_MS, decide, SHRINK_MS } from './window.js';

export interface GovernorOptions {
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /** The per-minute window. @default 60000 (Exchange's minute) */
  windowMs?: number;
  /**
   * A released connection counts this long more, so the server has seen it close before the next
   * AUTH of the mailbox arrives. @default 200
   */
  lingerMs?: number;
}

interface Slot {
  active: number;
  sends: { at: number; recipients: number }[];
  backoffUntil: number;
  shrink: number;
  shrinkUntil: number;
}

/**
 * The governor within one process (the embedded SQLite deployment: one instance). Decisions are
 * synchronous, so concurrent deliveries of a mailbox never overshoot.
 */
export function createMemoryGovernor(options: GovernorOptions = {}): Governor {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 60_000;
  const lingerMs = options.lingerMs ?? 200;
  const slots = new Map<string, Slot>();

  const slotOf = (key: string): Slot => {
    let slot = slots.get(key);
    if (!slot) {
      slot = { active: 0, sends: [], backoffUntil: 0, shrink: 0, shrinkUntil: 0 };
      slots.set(key, slot);
    }
    return slot;
  };

  return {
    async admit(mailbox: Mailbox, recipients: number): Promise<Admission> {
      const t = now();
      const slot = slotOf(mailbox.key);
      if (t < slot.backoffUntil) return { admitted: false, retryAt: slot.backoffUntil, reason: 'backoff' };
      if (t >= slot.shrinkUntil) slot.shrink = 0;
      slot.sends = slot.sends.filter((s) => s.at > t - DAY_MS);
      const minute = slot.sends.filter((s) => s.at > t - windowMs);
      const denied = decide(
        mailbox.limits,
        {
          active: slot.active,
          minute: { count: minute.length, oldest: minute[0]?.at },
          day: { recipients: slot.sends.reduce((n, s) => n + s.recipients, 0), oldest: slot.sends[0]?.at },
        },
        recipients,
        t,
        windowMs,
        slot.shrink,
      );
      if (denied) return denied;
      slot.active++;
      slot.sends.push({ at: t, recipients });
      let released = false;
      return {
        admitted: true,
        async release() {
          if (released) return;
          released = true;
          await new Promise((r) => setTimeout(r, lingerMs));
          slot.active--;
        },
      };
    },
    throttled(mailbox: Mailbox): void {
      const slot = slotOf(mailbox.key);
      const t = now();
      slot.shrink = Math.min(slot.shrink + 1, Math.max(0, mailbox.limits.maxConnections - 1));
      slot.shrinkUntil = t + SHRINK_MS;
      slot.backoffUntil = t + BACKOFF_MS;
    },
    leases() {
      return Object.fromEntries([...slots].map(([k, s]) => [k, s.active]));
    },
    async usage(key: string): Promise<MailboxUsage> {
      const slot = slots.get(key);
      const t = now();
      // Read only: the windows are pruned by admit(), not here.
      const day = (slot?.sends ?? []).filter((s) => s.at > t - DAY_MS);
      return {
        connections: slot?.active ?? 0,
        messagesLastMinute: day.filter((s) => s.at > t - windowMs).length,
        recipientsLastDay: day.reduce((n, s) => n + s.recipients, 0),
        backoffUntil: slot && t < slot.backoffUntil ? new Date(slot.backoffUntil).toISOString() : null,
      };
    },
    async close() {},
  };
}
