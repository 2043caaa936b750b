/**
 * Exchange Online's sending limits, per mailbox, measured on the shared clock. Each limit is declared
 * here; its doc names the reply that words it (replies.ts) and the module that enforces it.
 */
import type { Clock } from '../clock.js';

/** Exchange Online's limits. Set a single one to `false` to turn it off. */
export interface SmtpLimits {
  /**
   * Concurrent authenticated connections per mailbox; the next AUTH gets `432 4.3.2`. @default 3
   * Worded: `concurrentLimit` (replies.ts). Enforced: auth-dialogue.ts (counted by `tryConnect`).
   */
  concurrentConnectionsPerMailbox?: number | false;
  /**
   * Messages per minute per mailbox; beyond it the end-of-DATA reply is held (Exchange delays). @default 30
   * No reply of its own. Enforced: server.ts `hold` (counted by `rateDelay`).
   */
  messagesPerMinute?: number | false;
  /**
   * Recipients per rolling 24 h per mailbox; beyond it `554 5.2.0 …SubmissionQuotaExceededException`. @default 10000
   * Worded: `quotaExceeded` (replies.ts). Enforced: server.ts `submit` (counted by `quotaExceeded`).
   */
  recipientsPerDay?: number | false;
  /**
   * Recipients per message; the next RCPT gets `452 4.5.3`. @default 500
   * Worded: `tooManyRecipients` (replies.ts). Enforced: server.ts `rcpt`.
   */
  recipientsPerMessage?: number | false;
  /**
   * Largest message in bytes (MAIL SIZE= and the DATA itself); bigger gets `552 5.3.4`. @default 157286400
   * Worded: `sizeExceeded` (replies.ts). Enforced: server.ts `mail` (SIZE=) and message-data.ts (the data).
   */
  maxMessageSize?: number | false;
}

export interface ResolvedLimits {
  concurrentConnectionsPerMailbox: number;
  messagesPerMinute: number;
  recipientsPerDay: number;
  recipientsPerMessage: number;
  maxMessageSize: number;
}

const OFF = Number.POSITIVE_INFINITY;

export const EXCHANGE_LIMITS: ResolvedLimits = {
  concurrentConnectionsPerMailbox: 3,
  messagesPerMinute: 30,
  recipientsPerDay: 10_000,
  recipientsPerMessage: 500,
  maxMessageSize: 157_286_400,
};

export function resolveLimits(
  limits: SmtpLimits | false | undefined,
  persona: 'exchange' | 'google',
): ResolvedLimits {
  if (limits === false) {
    return {
      concurrentConnectionsPerMailbox: OFF,
      messagesPerMinute: OFF,
      recipientsPerDay: OFF,
      recipientsPerMessage: OFF,
      maxMessageSize: OFF,
    };
  }
  // Gmail's limits are not emulated beyond its advertised size.
  const base: ResolvedLimits =
    persona === 'exchange'
      ? EXCHANGE_LIMITS
      : {
          concurrentConnectionsPerMailbox: OFF,
          messagesPerMinute: OFF,
          recipientsPerDay: OFF,
          recipientsPerMessage: OFF,
          maxMessageSize: 35_882_577,
        };
  const pick = (v: number | false | undefined, d: number) => (v === false ? OFF : (v ?? d));
  return {
    concurrentConnectionsPerMailbox: pick(
      limits?.concurrentConnectionsPerMailbox,
      base.concurrentConnectionsPerMailbox,
    ),
    messagesPerMinute: pick(limits?.messagesPerMinute, base.messagesPerMinute),
    recipientsPerDay: pick(limits?.recipientsPerDay, base.recipientsPerDay),
    recipientsPerMessage: pick(limits?.recipientsPerMessage, base.recipientsPerMessage),
    maxMessageSize: pick(limits?.maxMessageSize, base.maxMessageSize),
  };
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Per-mailbox counters. Sliding windows: Exchange's exact bucketing is not public. */
export class MailboxCounters {
  private readonly connections = new Map<string, number>();
  private readonly sent = new Map<string, number[]>();
  private readonly recipients = new Map<string, { at: number; count: number }[]>();

  constructor(
    private readonly limits: ResolvedLimits,
    private readonly clock: Clock,
  ) {}

  tryConnect(mailbox: string): boolean {
    const n = this.connections.get(mailbox) ?? 0;
    if (n >= this.limits.concurrentConnectionsPerMailbox) return false;
    this.connections.set(mailbox, n + 1);
    return true;
  }

  disconnect(mailbox: string): void {
    const n = (this.connections.get(mailbox) ?? 0) - 1;
    if (n <= 0) this.connections.delete(mailbox);
    else this.connections.set(mailbox, n);
  }

  connectionCounts(): Record<string, number> {
    return Object.fromEntries(this.connections);
  }

  /** 0 when a message may be sent now, else ms (clock time) until a slot frees up. */
  rateDelay(mailbox: string): number {
    if (this.limits.messagesPerMinute === OFF) return 0;
    const list = this.sent.get(mailbox);
    if (!list) return 0;
    const now = this.clock.now();
    while (list.length > 0 && (list[0] ?? 0) <= now - MINUTE) list.shift();
    if (list.length < this.limits.messagesPerMinute) return 0;
    const oldest = list[list.length - this.limits.messagesPerMinute] ?? now;
    return Math.max(1, oldest + MINUTE - now);
  }

  recordSent(mailbox: string): void {
    if (this.limits.messagesPerMinute === OFF) return;
    let list = this.sent.get(mailbox);
    if (!list) {
      list = [];
      this.sent.set(mailbox, list);
    }
    list.push(this.clock.now());
  }

  /** Would `count` more recipients exceed the daily quota? */
  quotaExceeded(mailbox: string, count: number): boolean {
    if (this.limits.recipientsPerDay === OFF) return false;
    const list = this.recipients.get(mailbox);
    if (!list) return count > this.limits.recipientsPerDay;
    const now = this.clock.now();
    while (list.length > 0 && (list[0]?.at ?? 0) <= now - DAY) list.shift();
    let total = 0;
    for (const r of list) total += r.count;
    return total + count > this.limits.recipientsPerDay;
  }

  recordRecipients(mailbox: string, count: number): void {
    if (this.limits.recipientsPerDay === OFF) return;
    let list = this.recipients.get(mailbox);
    if (!list) {
      list = [];
      this.recipients.set(mailbox, list);
    }
    list.push({ at: this.clock.now(), count });
  }

  reset(): void {
    this.sent.clear();
    this.recipients.clear();
  }
}
