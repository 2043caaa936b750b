import type { EmailServerConfig } from '@org/core';
import { type Kysely, sql } from 'kysely';
import { mailboxKeyOf, mailboxOf } from '../governor/limits.js';
import type { Governor, MailboxLimits, MailboxUsage } from '../governor/types.js';
import type { Database } from '../store/schema.js';
import type { OutboxCounts } from './types.js';

/** Messages waiting for, or in, delivery. */
export interface OutboxBacklog {
  queued: number;
  sending: number;
}

/**
 * One mailbox (the governor's key, `host|user`) as the WebAdmin's Outbox page shows it: the entries
 * that send through it, their backlog, and the current use of its limits.
 */
export interface OutboxMailboxSummary {
  /** The governor's key: `host|user`, lower case. */
  key: string;
  host: string;
  user: string;
  /** The email-server entries that send as this mailbox (several entries share one budget). */
  entries: { id: string; name: string }[];
  backlog: OutboxBacklog;
  /**
   * The limits the governor keeps; a field is null when that limit is off (a non-Microsoft host
   * that sets only some). Null as a whole: the mailbox is not governed ("no limits").
   */
  limits: { [K in keyof MailboxLimits]: number | null } | null;
  /** Current use, read from the governor (across instances with PostgreSQL); null when not governed. */
  usage: MailboxUsage | null;
}

/** `GET /api/outbox/summary`: what the Outbox page shows above the message list. */
export interface OutboxSummary {
  /** When this picture was taken (the server's clock), ISO 8601. */
  at: string;
  /** Messages by state, all instances sharing the database. */
  counts: OutboxCounts;
  /** Creation time of the oldest queued message, and its age in seconds; null when none is queued. */
  oldestQueuedAt: string | null;
  oldestQueuedAgeSeconds: number | null;
  /**
   * Where the governor's counts come from: `shared` (PostgreSQL: every instance), `process`
   * (SQLite: this one instance), `off` (turned off by configuration: nothing is governed).
   */
  governor: 'shared' | 'process' | 'off';
  mailboxes: OutboxMailboxSummary[];
  /** Backlog whose entry was deleted (it fails with EMAIL_SERVER_NOT_FOUND when its turn comes). */
  withoutEntry: OutboxBacklog;
}

export interface OutboxSummaryInput {
  db: Kysely<Database>;
  outbox: { counts(): Promise<OutboxCounts>; oldestQueued(): Promise<string | undefined> };
  governor: Governor | undefined;
  /** `shared` or `process` when a governor is present. */
  governorScope: 'shared' | 'process';
  /** Every email-server entry (id, name and its stored config without secrets). */
  entries: { id: string; name: string; config: Record<string, unknown> }[];
  now: Date;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

/** Backlog (queued, sending) per entry id, one grouped query. */
async function backlogByEntry(db: Kysely<Database>): Promise<Map<string | null, OutboxBacklog>> {
  const rows = await db
    .selectFrom('outbox_messages')
    .select(['entry_id', 'status', sql<number>`count(*)`.as('n')])
    .where('status', 'in', ['queued', 'sending'])
    .groupBy(['entry_id', 'status'])
    .execute();
  const out = new Map<string | null, OutboxBacklog>();
  for (const r of rows) {
    const b = out.get(r.entry_id) ?? { queued: 0, sending: 0 };
    b[r.status as keyof OutboxBacklog] += Number(r.n);
    out.set(r.entry_id, b);
  }
  return out;
}

/**
 * The Outbox page's summary: counts by state, the oldest queued age, and per mailbox the backlog
 * and the governor's current counts against its limits. State only: no message content.
 */
export async function outboxSummary(input: OutboxSummaryInput): Promise<OutboxSummary> {
  const [counts, oldest, backlog] = await Promise.all([
    input.outbox.counts(),
    input.outbox.oldestQueued(),
    backlogByEntry(input.db),
  ]);
  const byKey = new Map<string, OutboxMailboxSummary>();
  for (const entry of input.entries) {
    // Stored configs passed core's schema (host and user are required); a row that somehow lacks
    // them still gets its own line rather than its backlog being counted as "without entry".
    const stored = entry.config as Partial<EmailServerConfig>;
    const config = {
      ...stored,
      host: typeof stored.host === 'string' ? stored.host : '',
      user: typeof stored.user === 'string' ? stored.user : '',
    } as EmailServerConfig;
    const key = mailboxKeyOf(config);
    let mailbox = byKey.get(key);
    if (!mailbox) {
      const governed = input.governor && config.host ? mailboxOf(config) : undefined;
      const [host = '', user = ''] = key.split('|');
      mailbox = {
        key,
        host,
        user,
        entries: [],
        backlog: { queued: 0, sending: 0 },
        limits: governed
          ? {
              maxConnections: finite(governed.limits.maxConnections),
              messagesPerMinute: finite(governed.limits.messagesPerMinute),
              recipientsPerDay: finite(governed.limits.recipientsPerDay),
            }
          : null,
        usage: null,
      };
      byKey.set(key, mailbox);
    }
    mailbox.entries.push({ id: entry.id, name: entry.name });
    const b = backlog.get(entry.id);
    if (b) {
      mailbox.backlog.queued += b.queued;
      mailbox.backlog.sending += b.sending;
    }
    backlog.delete(entry.id);
  }
  const mailboxes = [...byKey.values()];
  await Promise.all(
    mailboxes.map(async (m) => {
      if (m.limits && input.governor) m.usage = await input.governor.usage(m.key);
    }),
  );
  // By mailbox key, not by backlog: the rows keep their places while the page refreshes itself.
  mailboxes.sort((a, b) => a.key.localeCompare(b.key));
  const withoutEntry = { queued: 0, sending: 0 };
  for (const b of backlog.values()) {
    withoutEntry.queued += b.queued;
    withoutEntry.sending += b.sending;
  }
  return {
    at: input.now.toISOString(),
    counts,
    oldestQueuedAt: oldest ?? null,
    oldestQueuedAgeSeconds:
      oldest === undefined
        ? null
        : Math.max(0, Math.round((input.now.getTime() - Date.parse(oldest)) / 1000)),
    governor: input.governor ? input.governorScope : 'off',
    mailboxes,
    withoutEntry,
  };
}
