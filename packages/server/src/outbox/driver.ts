import { CompiledQuery, type Kysely, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely';
import { createSortableIds } from '../store/ids.js';
import type { Database, OutboxMessagesTable } from '../store/schema.js';
import type { OutboxAttempt, OutboxCounts, OutboxListFilter, OutboxMessage, OutboxStatus } from './types.js';

export type OutboxRow = Selectable<OutboxMessagesTable>;

export const OUTBOX_STATUSES: readonly OutboxStatus[] = [
  'queued',
  'sending',
  'sent',
  'failed',
  'unknown',
  'cancelled',
];

/** A new row as the outbox builds it (the driver adds nothing but the id). */
export type NewOutboxRow = Omit<OutboxRow, 'id'>;

/** What one attempt changed: the message's new state and the attempt's record. */
export interface AttemptOutcome {
  status: OutboxStatus;
  /** For `queued` (a transient failure): when to try again. */
  nextAttemptAt?: string;
  code: string | null;
  hint: string | null;
  reply: string | null;
  accepted?: string[];
  rejected?: string[];
  attempt: Omit<OutboxAttempt, 'attempt'>;
}

/**
 * A job engine's own writes (pg-boss: send, complete, cancel a job), committed in the same
 * transaction as the row's change, and run only when that change applied.
 */
export type AlsoInTransaction = (trx: Kysely<Database>, id: string) => Promise<void>;

/** The dialect-specific pieces: the claim statement and how errors are read. */
export interface OutboxDialect {
  name: 'sqlite' | 'postgres';
  /**
   * The row lock of the claim's inner SELECT (see the driver's `claim`). PostgreSQL:
   * `FOR UPDATE SKIP LOCKED`, so instances never claim the same row; SQLite: none, it runs one
   * write at a time.
   */
  claimLock: RawBuilder<unknown>;
  /** The error is a unique-constraint violation (idempotency key already used). */
  isUniqueViolation(error: unknown): boolean;
  /** The database cannot be reached or cannot take writes right now (answer 503, retry later). */
  isUnavailable(error: unknown): boolean;
}

/** Observers of state changes, run inside the change's own transaction. */
export interface OutboxDriverHooks {
  /**
   * Rows that just reached a final state (`sent`, `failed`, `unknown`, `cancelled`) — by an attempt,
   * a cancel, or an expired lease turned `unknown`. Runs in the same transaction, so what it writes
   * (e.g. webhook events) commits with the state or not at all; a throw rolls the change back.
   */
  onFinal?(trx: Kysely<Database>, ids: readonly string[], at: Date): Promise<void>;
}

/**
 * A row that was handed to the mailer (`transmitting`) when its instance stopped answering becomes
 * `unknown` (OUTBOX_LEASE_EXPIRED) with an `interrupted` attempt: the server may have accepted it, and
 * a silent re-send could deliver twice. `lease_owner` stays, so a late answer of that owner still
 * replaces the guess (see `finish`). One home for both engines: the SQL lease reclaim and pg-boss's
 * redelivered job. Returns false when the row was no longer `sending`.
 */
export async function markLeaseExpired(
  trx: Kysely<Database>,
  id: string,
  at: Date,
  nextAttemptId: (at: Date) => string,
): Promise<boolean> {
  const iso = at.toISOString();
  const r = await trx
    .updateTable('outbox_messages')
    .set({
      status: 'unknown',
      lease_expires_at: null,
      transmitting: 0,
      updated_at: iso,
      finished_at: iso,
      last_code: 'OUTBOX_LEASE_EXPIRED',
      last_hint:
        'The instance delivering this message stopped while talking to the SMTP server; it may or may not have been delivered. Check the recipient, then POST /api/messages/{id}/retry to send it again with the same Message-ID.',
    })
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await trx
    .insertInto('outbox_attempts')
    .values({
      id: nextAttemptId(at),
      outbox_id: id,
      at: iso,
      attempt: 0,
      outcome: 'interrupted',
      code: 'OUTBOX_LEASE_EXPIRED',
      reply: null,
      duration_ms: null,
      instance: null,
    })
    .execute();
  return true;
}

/**
 * The outbox's storage: one implementation over Kysely, the dialect differences in
 * {@link OutboxDialect} (sqlite.ts, postgres.ts). Every state change is one statement or one
 * transaction; a change made under a lease only applies while this owner still holds it.
 */
export function createOutboxDriver(
  db: Kysely<Database>,
  dialect: OutboxDialect,
  hooks: OutboxDriverHooks = {},
) {
  const nextId = createSortableIds();
  const nextAttemptId = createSortableIds();

  // A one-row change; with `also`, in one transaction with the engine's writes.
  async function change(
    id: string,
    run: (q: Kysely<Database>) => Promise<boolean>,
    also?: AlsoInTransaction,
  ) {
    if (!also) return run(db);
    return db.transaction().execute(async (trx) => {
      const applied = await run(trx);
      if (applied) await also(trx, id);
      return applied;
    });
  }

  // The accept path's one statement, compiled once: building a 26-column INSERT per request cost
  // about a fifth of an accepted message's time (measured in bench (a)). Columns in a fixed order.
  let insertSql: { text: string; columns: (keyof OutboxRow)[] } | undefined;
  function insertQuery(row: OutboxRow): CompiledQuery {
    // Another set of columns than the first row's: compile this one on its own.
    if (insertSql && Object.keys(row).length !== insertSql.columns.length)
      return db.insertInto('outbox_messages').values(row).compile();
    if (!insertSql) {
      const columns = Object.keys(row).sort() as (keyof OutboxRow)[];
      const ordered = Object.fromEntries(columns.map((c) => [c, row[c]])) as OutboxRow;
      insertSql = { text: db.insertInto('outbox_messages').values(ordered).compile().sql, columns };
    }
    return CompiledQuery.raw(
      insertSql.text,
      insertSql.columns.map((c) => row[c]),
    );
  }

  async function finishIn(
    trx: Transaction<Database>,
    id: string,
    owner: string,
    outcome: AttemptOutcome,
    at: Date,
    also?: AlsoInTransaction,
  ): Promise<boolean> {
    const iso = at.toISOString();
    const final = outcome.status !== 'queued';
    // One statement decides and changes: only under this owner's lease (or its expired-lease
    // `unknown` guess), attempts counted in SQL.
    const updated = await trx
      .updateTable('outbox_messages')
      .set((eb) => ({
        status: outcome.status,
        attempts: eb('attempts', '+', 1),
        updated_at: iso,
        lease_owner: null,
        lease_expires_at: null,
        transmitting: 0,
        last_code: outcome.code,
        last_hint: outcome.hint,
        last_reply: outcome.reply,
        ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
        ...(outcome.accepted ? { accepted_json: JSON.stringify(outcome.accepted) } : {}),
        ...(outcome.rejected ? { rejected_json: JSON.stringify(outcome.rejected) } : {}),
        finished_at: final ? iso : null,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', 'in', ['sending', 'unknown'])
      .returning('attempts')
      .executeTakeFirst();
    if (!updated) return false;
    await trx
      .insertInto('outbox_attempts')
      .values({
        id: nextAttemptId(at),
        outbox_id: id,
        at: outcome.attempt.at,
        attempt: Number(updated.attempts),
        outcome: outcome.attempt.outcome,
        code: outcome.attempt.code,
        reply: outcome.attempt.reply,
        duration_ms: outcome.attempt.durationMs,
        instance: owner,
      })
      .execute();
    // Observers (webhook events) write in this transaction: committed with the final state or not at all.
    await also?.(trx, id);
    if (final) await hooks.onFinal?.(trx, [id], at);
    return true;
  }

  async function getRow(id: string): Promise<OutboxRow | undefined> {
    return db.selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  return {
    name: dialect.name,
    dialect,
    getRow,

    /**
     * Stores a new message; with an idempotency key already used by the same source, stores nothing
     * and returns the first row (`duplicate: true`).
     */
    async insert(
      row: NewOutboxRow,
      at: Date,
      also?: AlsoInTransaction,
    ): Promise<{ row: OutboxRow; duplicate: boolean }> {
      const full: OutboxRow = { ...row, id: nextId(at) };
      try {
        await change(
          full.id,
          async (q) => {
            await q.executeQuery(insertQuery(full));
            return true;
          },
          also,
        );
        return { row: full, duplicate: false };
      } catch (error) {
        if (!row.idempotency_key || !dialect.isUniqueViolation(error)) throw error;
        const first = await db
          .selectFrom('outbox_messages')
          .selectAll()
          .where('source_kind', '=', row.source_kind)
          .where('source_id', row.source_id === null ? 'is' : '=', row.source_id)
          .where('idempotency_key', '=', row.idempotency_key)
          .executeTakeFirst();
        if (!first) throw error;
        return { row: first, duplicate: true };
      }
    },

    /** Moves up to `limit` due queued rows to `sending` under this owner's lease, atomically, and returns them. */
    async claim(args: {
      owner: string;
      now: Date;
      leaseMs: number;
      limit: number;
      excludeEntries?: string[];
    }) {
      const now = args.now.toISOString();
      const leaseUntil = new Date(args.now.getTime() + args.leaseMs).toISOString();
      const excludeEntries = args.excludeEntries ?? [];
      const exclude =
        excludeEntries.length > 0
          ? sql`AND (entry_id IS NULL OR entry_id NOT IN (${sql.join(excludeEntries)}))`
          : sql``;
      const result = await sql<OutboxRow>`
        UPDATE outbox_messages
           SET status = 'sending', lease_owner = ${args.owner}, lease_expires_at = ${leaseUntil},
               transmitting = 0, updated_at = ${now}
         WHERE id IN (SELECT id FROM outbox_messages
                       WHERE status = 'queued' AND next_attempt_at <= ${now} ${exclude}
                       ORDER BY next_attempt_at, id LIMIT ${args.limit}
                       ${dialect.claimLock})
        RETURNING *`.execute(db);
      return result.rows;
    },

    /** Marks a claimed row as handed to the mailer: from now on a lost lease means "unknown". */
    async markTransmitting(id: string, owner: string): Promise<boolean> {
      const r = await db
        .updateTable('outbox_messages')
        .set({ transmitting: 1 })
        .where('id', '=', id)
        .where('status', '=', 'sending')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** {@link markTransmitting} for several rows of one owner in one statement: the ids it marked. */
    async markTransmittingMany(ids: string[], owner: string): Promise<Set<string>> {
      const rows = await db
        .updateTable('outbox_messages')
        .set({ transmitting: 1 })
        .where('id', 'in', ids)
        .where('status', '=', 'sending')
        .where('lease_owner', '=', owner)
        .returning('id')
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    /**
     * Gives a claimed row back untouched (shutdown before it was handed to the mailer, or its mailbox
     * had no room): due again at `notBefore` (@default now).
     */
    async release(
      id: string,
      owner: string,
      at: Date,
      notBefore?: Date,
      also?: AlsoInTransaction,
    ): Promise<boolean> {
      return change(
        id,
        async (q) => {
          const r = await q
            .updateTable('outbox_messages')
            .set({
              status: 'queued',
              lease_owner: null,
              lease_expires_at: null,
              updated_at: at.toISOString(),
              ...(notBefore ? { next_attempt_at: notBefore.toISOString() } : {}),
            })
            .where('id', '=', id)
            .where('status', '=', 'sending')
            .where('lease_owner', '=', owner)
            .where('transmitting', '=', 0)
            .executeTakeFirst();
          return Number(r.numUpdatedRows) === 1;
        },
        also,
      );
    },

    /**
     * Records one attempt and the message's new state, in one transaction. Applies while this owner
     * holds the lease — or after the lease expired and the row was marked `unknown` (the real
     * outcome then replaces the guess). Returns false when the row was taken over.
     */
    async finish(
      id: string,
      owner: string,
      outcome: AttemptOutcome,
      at: Date,
      also?: AlsoInTransaction,
    ): Promise<boolean> {
      return db.transaction().execute((trx) => finishIn(trx, id, owner, outcome, at, also));
    },

    /** {@link finish} of several attempts in one transaction (one commit): each one's answer. */
    async finishMany(
      items: { id: string; owner: string; outcome: AttemptOutcome; at: Date; also?: AlsoInTransaction }[],
    ): Promise<boolean[]> {
      return db.transaction().execute(async (trx) => {
        const done: boolean[] = [];
        for (const i of items) done.push(await finishIn(trx, i.id, i.owner, i.outcome, i.at, i.also));
        return done;
      });
    },

    /** Extends the leases of this owner's rows in flight (heartbeat). */
    async renewLeases(owner: string, until: Date): Promise<void> {
      await db
        .updateTable('outbox_messages')
        .set({ lease_expires_at: until.toISOString() })
        .where('status', '=', 'sending')
        .where('lease_owner', '=', owner)
        .execute();
    },

    /**
     * Takes back rows whose lease expired (their instance died) — or, with `notOwnedBy`, every row in
     * flight under another owner (SQLite: one instance per file, so any other owner is a dead process).
     * Rows never handed to the mailer go back to `queued`; rows that were (`transmitting`) become
     * `unknown`: the server may have accepted them, and a silent re-send could deliver twice.
     */
    async reclaim(args: { now: Date; notOwnedBy?: string }): Promise<{ requeued: number; unknown: number }> {
      const iso = args.now.toISOString();
      return db.transaction().execute(async (trx) => {
        let stale = trx
          .selectFrom('outbox_messages')
          .select(['id', 'transmitting'])
          .where('status', '=', 'sending');
        stale = args.notOwnedBy
          ? stale.where((eb) =>
              eb.or([eb('lease_owner', '!=', args.notOwnedBy!), eb('lease_owner', 'is', null)]),
            )
          : stale.where('lease_expires_at', '<', iso);
        const rows = await stale.execute();
        const requeue = rows.filter((r) => Number(r.transmitting) === 0).map((r) => r.id);
        const unknown = rows.filter((r) => Number(r.transmitting) !== 0).map((r) => r.id);
        if (requeue.length > 0)
          await trx
            .updateTable('outbox_messages')
            .set({ status: 'queued', lease_owner: null, lease_expires_at: null, updated_at: iso })
            .where('id', 'in', requeue)
            .where('status', '=', 'sending')
            .execute();
        const madeUnknown: string[] = [];
        for (const id of unknown)
          if (await markLeaseExpired(trx, id, args.now, nextAttemptId)) madeUnknown.push(id);
        if (madeUnknown.length > 0) await hooks.onFinal?.(trx, madeUnknown, args.now);
        return { requeued: requeue.length, unknown: unknown.length };
      });
    },

    /** queued → cancelled. Returns the row after the change, or undefined when it was not queued. */
    async cancel(id: string, at: Date, also?: AlsoInTransaction): Promise<boolean> {
      const iso = at.toISOString();
      return change(
        id,
        async (q) => {
          const r = await q
            .updateTable('outbox_messages')
            .set({ status: 'cancelled', updated_at: iso, finished_at: iso })
            .where('id', '=', id)
            .where('status', '=', 'queued')
            .executeTakeFirst();
          return Number(r.numUpdatedRows) === 1;
        },
        // A final state: observers (webhook events) write in the same transaction.
        also || hooks.onFinal
          ? async (trx, changed) => {
              await also?.(trx, changed);
              await hooks.onFinal?.(trx, [changed], at);
            }
          : undefined,
      );
    },

    /**
     * failed / unknown / cancelled → queued, due now, with a fresh lifetime; the Message-ID stays.
     * Only rows that still have their content (imported log rows have none).
     */
    async requeue(id: string, at: Date, expiresAt: Date, also?: AlsoInTransaction): Promise<boolean> {
      const iso = at.toISOString();
      return change(
        id,
        async (q) => {
          const r = await q
            .updateTable('outbox_messages')
            .set({
              status: 'queued',
              updated_at: iso,
              next_attempt_at: iso,
              expires_at: expiresAt.toISOString(),
              finished_at: null,
              lease_owner: null,
              lease_expires_at: null,
              transmitting: 0,
            })
            .where('id', '=', id)
            .where('status', 'in', ['failed', 'unknown', 'cancelled'])
            .where('content_kind', '!=', 'none')
            .executeTakeFirst();
          return Number(r.numUpdatedRows) === 1;
        },
        also,
      );
    },

    async attempts(id: string): Promise<OutboxAttempt[]> {
      const rows = await db
        .selectFrom('outbox_attempts')
        .selectAll()
        .where('outbox_id', '=', id)
        .orderBy('id', 'asc')
        .execute();
      return rows.map((r) => ({
        at: r.at,
        attempt: Number(r.attempt),
        outcome: r.outcome as OutboxAttempt['outcome'],
        code: r.code,
        reply: r.reply,
        durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      }));
    },

    async list(filter: OutboxListFilter & { statuses?: OutboxStatus[] }): Promise<OutboxRow[]> {
      let q = db.selectFrom('outbox_messages').selectAll();
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.statuses) q = q.where('status', 'in', filter.statuses);
      if (filter.entryId) q = q.where('entry_id', '=', filter.entryId);
      if (filter.sourceId) q = q.where('source_id', '=', filter.sourceId);
      if (filter.before) q = q.where('id', '<', filter.before);
      return q.orderBy('id', 'desc').limit(filter.limit).execute();
    },

    async counts(): Promise<OutboxCounts> {
      const rows = await db
        .selectFrom('outbox_messages')
        .select(['status', sql<number>`count(*)`.as('n')])
        .groupBy('status')
        .execute();
      const counts = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as OutboxCounts;
      for (const r of rows) if (r.status in counts) counts[r.status as OutboxStatus] = Number(r.n);
      return counts;
    },

    /** Creation time of the oldest queued message, or undefined. */
    async oldestQueued(): Promise<string | undefined> {
      const r = await db
        .selectFrom('outbox_messages')
        .select((eb) => eb.fn.min('created_at').as('oldest'))
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return (r?.oldest as string | null | undefined) ?? undefined;
    },

    /** Deletes finished rows older than `before` (their idempotency keys go with them). */
    async purge(before: Date): Promise<number> {
      const r = await db
        .deleteFrom('outbox_messages')
        .where('status', 'in', ['sent', 'failed', 'cancelled', 'unknown'])
        .where('finished_at', '<', before.toISOString())
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type OutboxDriver = ReturnType<typeof createOutboxDriver>;

/** The API view of a row: state and outcome, never the content. */
export function toOutboxMessage(row: OutboxRow): OutboxMessage {
  const list = (v: string | null) => (v === null ? null : (JSON.parse(v) as string[]));
  return {
    id: row.id,
    messageId: row.message_id,
    entryId: row.entry_id,
    source: { kind: row.source_kind, id: row.source_id },
    status: row.status as OutboxStatus,
    recipientCount: Number(row.recipient_count),
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    nextAttemptAt: row.status === 'queued' ? row.next_attempt_at : null,
    expiresAt: row.expires_at,
    finishedAt: row.finished_at,
    lastCode: row.last_code,
    lastHint: row.last_hint,
    lastReply: row.last_reply,
    accepted: list(row.accepted_json),
    rejected: list(row.rejected_json),
  };
}
