/**
 * The governor: Exchange Online's per-mailbox sending limits, kept by every sender of the mailbox
 * together. Keyed by (SMTP host, user) — not by entry or process: two entries for one mailbox, or
 * several server instances, share one budget.
 */

/** Limits of one mailbox. Source: Exchange Online limits (reference §3; learn.microsoft.com "Exchange Online limits"). */
export interface MailboxLimits {
  /** Concurrent SMTP connections. Exchange: 3 (the fourth AUTH gets `432 4.3.2`). */
  maxConnections: number;
  /** Messages per minute. Exchange: 30. */
  messagesPerMinute: number;
  /** Recipients per rolling 24 h. Exchange: 10,000. */
  recipientsPerDay: number;
}

/** Exchange Online's defaults, applied to Microsoft hosts. */
export const EXCHANGE_MAILBOX_LIMITS: MailboxLimits = {
  maxConnections: 3,
  messagesPerMinute: 30,
  recipientsPerDay: 10_000,
};

/** A mailbox the governor keeps: its key (`host|user`, lower case) and its limits. */
export interface Mailbox {
  key: string;
  limits: MailboxLimits;
}

/** One mailbox's current use of its limits, as the governor counts it. */
export interface MailboxUsage {
  /** Connection leases held now (a released one counts for its linger time more). */
  connections: number;
  /** Sends admitted in the last per-minute window (`windowMs`, Exchange's minute). */
  messagesLastMinute: number;
  /** Recipients of the sends admitted in the last 24 h. */
  recipientsLastDay: number;
  /**
   * After a 432 from the server: no new send before this time (ISO 8601), as this instance decided;
   * null when not backing off.
   */
  backoffUntil: string | null;
}

/** A request the governor turned down, and when to ask again. */
export interface Refusal {
  admitted: false;
  /** When to ask again (ms since the epoch, on the governor's clock). */
  retryAt: number;
  reason: 'connections' | 'rate' | 'recipients' | 'backoff';
}

/**
 * One SMTP connection of a mailbox, held as long as the connection is open (reused for many
 * messages), not per message: Exchange counts open authenticated sessions, not sends.
 */
export interface ConnectionLease {
  /**
   * False once the lease was lost (PostgreSQL: its heartbeat could not renew it before it expired,
   * so another instance may hold the place now): close the connection.
   */
  readonly held: boolean;
  /** Gives the place back, after the connection was closed. Idempotent. */
  release(): Promise<void>;
}

/** The answer to a request for a connection. */
export type LeaseAnswer = { admitted: true; lease: ConnectionLease } | Refusal;

/** The answer to a request for one message: a place in the per-minute and per-day windows. */
export type Admission = { admitted: true } | Refusal;

export interface Governor {
  /** One more open SMTP connection of `mailbox` (refused: `connections` or `backoff`). */
  lease(mailbox: Mailbox): Promise<LeaseAnswer>;
  /**
   * One message of `recipients` recipients through an open, leased connection of `mailbox`: a place
   * in its per-minute and per-day windows (refused: `rate`, `recipients` or `backoff`).
   */
  admit(mailbox: Mailbox, recipients: number): Promise<Admission>;
  /** A 432 arrived anyway (another client of the mailbox): take a smaller share and back off. */
  throttled(mailbox: Mailbox): void;
  /** Connections the mailbox may have open now: its limit less the share given up after 432s (at least 1). */
  share(mailbox: Mailbox): number;
  /** Connection leases held by this instance, per mailbox key (metrics). */
  leases(): Record<string, number>;
  /**
   * What `mailboxKey` uses now, read only (nothing is admitted, released or cleaned up): the
   * WebAdmin's Outbox page. With PostgreSQL it is read from the shared tables, so it is the picture
   * across every instance; in memory it is this process's.
   */
  usage(mailboxKey: string): Promise<MailboxUsage>;
  close(): Promise<void>;
}
