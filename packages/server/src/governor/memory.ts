import type { Admission, Governor, LeaseAnswer, Mailbox, MailboxUsage } from './types.js';
import { BACKOFF_MS, connectionShare, DAY_MS, decideConnection, decideWindows, SHRINK_MS } from './window.js';

export interface GovernorOptions {
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /** The per-minute window. @default 60000 (Exchange's minute) */
  windowMs?: number;
  /**
   * A released connection lease counts this long more, so the server has seen the connection close
   * before the next AUTH of the mailbox arrives. @default 200
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
  const shrinkOf = (slot: Slot, t: number) => (t < slot.shrinkUntil ? slot.shrink : 0);

  return {
    async lease(mailbox: Mailbox): Promise<LeaseAnswer> {
      const t = now();
      const slot = slotOf(mailbox.key);
      if (t < slot.backoffUntil) return { admitted: false, retryAt: slot.backoffUntil, reason: 'backoff' };
      const denied = decideConnection(mailbox.limits, slot.active, t, shrinkOf(slot, t));
      if (denied) return denied;
      slot.active++;
      let released = false;
      return {
        admitted: true,
        lease: {
          held: true,
          async release() {
            if (released) return;
            released = true;
            await new Promise((r) => setTimeout(r, lingerMs));
            slot.active--;
          },
        },
      };
    },
    async admit(mailbox: Mailbox, recipients: number): Promise<Admission> {
      const t = now();
      const slot = slotOf(mailbox.key);
      if (t < slot.backoffUntil) return { admitted: false, retryAt: slot.backoffUntil, reason: 'backoff' };
      slot.sends = slot.sends.filter((s) => s.at > t - DAY_MS);
      const minute = slot.sends.filter((s) => s.at > t - windowMs);
      const denied = decideWindows(
        mailbox.limits,
        {
          minute: { count: minute.length, oldest: minute[0]?.at },
          day: { recipients: slot.sends.reduce((n, s) => n + s.recipients, 0), oldest: slot.sends[0]?.at },
        },
        recipients,
        t,
        windowMs,
      );
      if (denied) return denied;
      slot.sends.push({ at: t, recipients });
      return { admitted: true };
    },
    throttled(mailbox: Mailbox): void {
      const slot = slotOf(mailbox.key);
      const t = now();
      slot.shrink = Math.min(shrinkOf(slot, t) + 1, Math.max(0, mailbox.limits.maxConnections - 1));
      slot.shrinkUntil = t + SHRINK_MS;
      slot.backoffUntil = t + BACKOFF_MS;
    },
    share(mailbox: Mailbox): number {
      const slot = slots.get(mailbox.key);
      return connectionShare(mailbox.limits, slot ? shrinkOf(slot, now()) : 0);
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
