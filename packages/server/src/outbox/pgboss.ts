import { fromKysely, type JobAttempt, PgBoss } from 'pg-boss';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.js';
import { createSortableIds } from '../store/ids.js';
import type { Database } from '../store/schema.js';
import {
  type AlsoInTransaction,
  type AttemptOutcome,
  createOutboxDriver,
  markLeaseExpired,
  type OutboxDriver,
  type OutboxDriverHooks,
  type OutboxRow,
} from './driver.js';
import { postgresOutbox } from './postgres.js';

/** pg-boss's tables live in their own schema of the server's database, created and migrated by `start()`. */
export const PGBOSS_SCHEMA = 'smtp_oauth_jobs';
/** One job per message that is waiting or being delivered (policy `exclusive`, singletonKey = outbox id). */
export const OUTBOX_QUEUE = 'outbox';
/** Jobs whose workers died more often than {@link PgBossOutboxOptions.redeliveries} allows. */
export const OUTBOX_DEAD_LETTER_QUEUE = 'outbox_dead';

export interface PgBossOutboxOptions {
  logger: Logger;
  /**
   * The outbox's lease (ms): a job's `heartbeatSeconds` (pg-boss's minimum is 10 s). A worker that
   * misses its heartbeats for that long is taken for dead; pg-boss's monitor hands its job out again.
   * @default 120000
   */
  leaseMs?: number;
  /** How often a dead worker's job is handed out again before it goes to the dead-letter queue. @default 5 */
  redeliveries?: number;
  /** pg-boss's schema. @default {@link PGBOSS_SCHEMA} */
  schema?: string;
  /** Observers of final states, in their transaction (webhook events); see {@link OutboxDriverHooks}. */
  hooks?: OutboxDriverHooks;
}

/** Job payload: only the outbox id — the message stays in `outbox_messages`. */
interface OutboxJob {
  id: string;
}

/**
 * The multi-instance outbox engine: pg-boss (https://github.com/timgit/pg-boss) schedules, hands out
 * and re-hands out delivery jobs across instances; `outbox_messages` / `outbox_attempts` stay the
 * record of each message (API, list, counts, idempotency, the sent log). Every change to a row and
 * to its job commits in one transaction (pg-boss's `db` option over the Kysely transaction):
 * - accept: row + job (`singletonKey` = outbox id, so a message never has two live jobs);
 * - attempt: row + attempt record + job completed; a transient failure sends the next job with
 *   `startAfter` = our Postfix-like schedule (pg-boss's own backoff cannot honour Retry-After);
 * - governor says no: the job is given back with `startAfter` = when the mailbox has room;
 * - cancel cancels the job; an operator's retry sends a new one.
 * A worker that dies loses its job's heartbeat; pg-boss fails it into `retry` and hands it out again:
 * a row still `transmitting` then becomes `unknown` (OUTBOX_LEASE_EXPIRED), never sent twice; a row
 * that was not yet handed to the mailer is delivered by the new worker.
 */
export async function openPgBossOutbox(
  db: Kysely<Database>,
  options: PgBossOutboxOptions,
): Promise<{ driver: OutboxDriver; boss: PgBoss; close(): Promise<void> }> {
  const { logger } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  const heartbeatSeconds = Math.max(10, Math.ceil(leaseMs / 1000));
  // The monitor that fails jobs with lapsed heartbeats runs this often (pg-boss's default is 60 s).
  const monitorSeconds = Math.min(60, Math.max(1, Math.floor(heartbeatSeconds / 4)));
  const boss = new PgBoss({
    db: fromKysely(db),
    schema: options.schema ?? PGBOSS_SCHEMA,
    schedule: false,
    superviseIntervalSeconds: monitorSeconds,
    monitorIntervalSeconds: monitorSeconds,
  });
  boss.on('error', (error: Error & { code?: unknown }) =>
    logger.warn('outbox: job engine error', { errorCode: error.code, error: error.message }),
  );
  await boss.start();
  const queueOptions = {
    heartbeatSeconds,
    retryLimit: options.redeliveries ?? 5,
    retryDelay: 0,
    // A send has its own timeouts; this only bounds a worker that heartbeats but never answers.
    expireInSeconds: 3600,
    // Each job waits at most one retry delay (≤ 1 h, or a server's Retry-After); keep it well past that.
    retentionSeconds: 14 * 86_400,
    deleteAfterSeconds: 86_400,
  };
  await ensureQueue(boss, OUTBOX_DEAD_LETTER_QUEUE, { policy: 'standard', retentionSeconds: 14 * 86_400 });
  await ensureQueue(boss, OUTBOX_QUEUE, {
    policy: 'exclusive',
    deadLetter: OUTBOX_DEAD_LETTER_QUEUE,
    ...queueOptions,
  });

  await adoptJobless(db, boss);

  const hooks = options.hooks ?? {};
  const base = createOutboxDriver(db, postgresOutbox, hooks);
  const nextAttemptId = createSortableIds();
  /** The job attempt this instance holds for each row it claimed (completing it is fenced by it). */
  const held = new Map<string, JobAttempt>();
  /**
   * Rows whose attempt could not be recorded yet (database away; the outbox tries again): their job
   * stays held for that retry but is no longer touched, so if the retries never succeed the job's
   * heartbeat lapses and pg-boss hands it out again — as the SQL lease would run out.
   */
  const settling = new Set<string>();

  /**
   * Sends a message's job, due `when` (@default now). The delay goes to pg-boss relative (seconds,
   * counted on the database's clock), so the outbox's clock and the database's need not agree.
   */
  const sendJob = (trx: Kysely<Database>, id: string, when?: { at: Date; due: Date }) => {
    const delayMs = when ? when.due.getTime() - when.at.getTime() : 0;
    return boss.send(OUTBOX_QUEUE, { id } satisfies OutboxJob, {
      singletonKey: id,
      ...(delayMs > 0 ? { startAfter: delayMs / 1000 } : {}),
      db: fromKysely(trx),
    });
  };
  /** Completes the held job; with `next`, sends the row's next job (after the completion frees its key). */
  const settle =
    (next?: { at: Date; due: Date }): AlsoInTransaction =>
    async (trx, id) => {
      const job = held.get(id);
      if (job) await boss.complete(OUTBOX_QUEUE, job, null, { db: fromKysely(trx) });
      if (next) await sendJob(trx, id, next);
    };
  const completeJob = (trx: Kysely<Database>, job: JobAttempt, queue = OUTBOX_QUEUE) =>
    boss.complete(queue, job, null, { db: fromKysely(trx) });

  /**
   * A job whose row was not `queued`: pg-boss handed it out again (its worker missed its heartbeats),
   * or it is stale (the row is final). Decides under the row's lock what the job still means.
   */
  async function redelivered(
    jobId: string,
    job: JobAttempt & { data: OutboxJob },
    owner: string,
    now: Date,
    leaseUntil: string,
  ): Promise<OutboxRow | undefined> {
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('outbox_messages')
        .selectAll()
        .where('id', '=', job.data.id)
        .forUpdate()
        .executeTakeFirst();
      if (row?.status === 'sending' && Number(row.transmitting) !== 0) {
        // Handed to the mailer by a worker that is gone: maybe delivered. Never re-sent silently.
        if (await markLeaseExpired(trx, row.id, now, nextAttemptId))
          await hooks.onFinal?.(trx, [row.id], now);
        await completeJob(trx, job);
        logger.warn('outbox: delivery interrupted by a stopped instance; marked unknown', { id: row.id });
        return undefined;
      }
      if (row?.status === 'sending' || row?.status === 'queued') {
        // Never handed to the mailer: this worker takes the message over.
        const taken = await trx
          .updateTable('outbox_messages')
          .set({
            status: 'sending',
            lease_owner: owner,
            lease_expires_at: leaseUntil,
            transmitting: 0,
            updated_at: now.toISOString(),
          })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        held.set(row.id, job);
        settling.delete(row.id);
        return taken;
      }
      // Final (sent, failed, unknown, cancelled) or deleted: nothing left to do.
      logger.debug?.('outbox: stale job completed', { job: jobId });
      await completeJob(trx, job);
      return undefined;
    });
  }

  /** Jobs that ran out of redeliveries: their row ends instead of waiting forever. */
  async function drainDeadLetters(now: Date): Promise<{ requeued: number; unknown: number }> {
    let unknown = 0;
    let failed = 0;
    const jobs = await boss.fetch<OutboxJob>(OUTBOX_DEAD_LETTER_QUEUE, { batchSize: 50 });
    for (const job of jobs) {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('outbox_messages')
          .select(['id', 'status', 'transmitting'])
          .where('id', '=', job.data.id)
          .forUpdate()
          .executeTakeFirst();
        if (row?.status === 'sending' || row?.status === 'queued') {
          if (row.status === 'sending' && Number(row.transmitting) !== 0) {
            if (await markLeaseExpired(trx, row.id, now, nextAttemptId)) {
              unknown++;
              await hooks.onFinal?.(trx, [row.id], now);
            }
          } else {
            failed++;
            const iso = now.toISOString();
            await trx
              .updateTable('outbox_messages')
              .set({
                status: 'failed',
                updated_at: iso,
                finished_at: iso,
                lease_owner: null,
                lease_expires_at: null,
                last_code: 'OUTBOX_LEASE_EXPIRED',
                last_hint:
                  'Every instance that took this message stopped before sending it; it was not sent. POST /api/messages/{id}/retry to try again.',
              })
              .where('id', '=', row.id)
              .execute();
            await hooks.onFinal?.(trx, [row.id], now);
          }
        }
        await completeJob(trx, job, OUTBOX_DEAD_LETTER_QUEUE);
      });
    }
    if (failed > 0)
      logger.warn('outbox: messages failed after every instance holding them stopped', { failed });
    return { requeued: 0, unknown };
  }

  const driver: OutboxDriver = {
    ...base,

    insert: (row, at) => base.insert(row, at, (trx, id) => sendJob(trx, id).then(() => {})),

    async claim(args) {
      const jobs = await boss.fetch<OutboxJob>(OUTBOX_QUEUE, { batchSize: args.limit });
      if (jobs.length === 0) return [];
      const iso = args.now.toISOString();
      const leaseUntil = new Date(args.now.getTime() + args.leaseMs).toISOString();
      // The usual case in one statement: the job's row is queued.
      const rows = await db
        .updateTable('outbox_messages')
        .set({
          status: 'sending',
          lease_owner: args.owner,
          lease_expires_at: leaseUntil,
          transmitting: 0,
          updated_at: iso,
        })
        .where(
          'id',
          'in',
          jobs.map((j) => j.data.id),
        )
        .where('status', '=', 'queued')
        .returningAll()
        .execute();
      const claimed = new Set(rows.map((r) => r.id));
      for (const job of jobs) {
        if (claimed.has(job.data.id)) {
          held.set(job.data.id, { id: job.id, retryCount: job.retryCount });
          settling.delete(job.data.id);
        } else {
          const row = await redelivered(
            job.id,
            { id: job.id, retryCount: job.retryCount, data: job.data },
            args.owner,
            args.now,
            leaseUntil,
          );
          if (row) rows.push(row);
        }
      }
      return rows;
    },

    async release(id, owner, at, notBefore) {
      try {
        return await base.release(id, owner, at, notBefore, settle({ at, due: notBefore ?? at }));
      } finally {
        held.delete(id);
      }
    },

    async finish(id: string, owner: string, outcome: AttemptOutcome, at: Date) {
      const next =
        outcome.status === 'queued' ? { at, due: new Date(outcome.nextAttemptAt ?? at) } : undefined;
      try {
        const applied = await base.finish(id, owner, outcome, at, settle(next));
        held.delete(id);
        settling.delete(id);
        return applied;
      } catch (error) {
        settling.add(id);
        throw error;
      }
    },

    // Group commit (group-commit.ts): several attempts in one transaction, each with its job's change.
    async finishMany(items) {
      const withJobs = items.map((i) => ({
        ...i,
        also: settle(
          i.outcome.status === 'queued'
            ? { at: i.at, due: new Date(i.outcome.nextAttemptAt ?? i.at) }
            : undefined,
        ),
      }));
      try {
        const applied = await base.finishMany(withJobs);
        for (const i of items) {
          held.delete(i.id);
          settling.delete(i.id);
        }
        return applied;
      } catch (error) {
        for (const i of items) settling.add(i.id);
        throw error;
      }
    },

    async renewLeases(owner, until) {
      await base.renewLeases(owner, until);
      // pg-boss's heartbeat: a job not touched within heartbeatSeconds is taken for a dead worker's.
      const live = [...held].filter(([id]) => !settling.has(id)).map(([, job]) => job);
      if (live.length > 0) await boss.touch(OUTBOX_QUEUE, live);
    },

    // Dead workers' jobs come back through pg-boss (see `claim`); what remains is the dead letters.
    reclaim: ({ now }) => drainDeadLetters(now),

    cancel: (id, at) =>
      base.cancel(id, at, async (trx) => {
        const adapter = fromKysely(trx);
        const jobs = await boss.findJobs(OUTBOX_QUEUE, { key: id, queued: true, db: adapter });
        if (jobs.length > 0)
          await boss.cancel(
            OUTBOX_QUEUE,
            jobs.map((j) => j.id),
            { db: adapter },
          );
      }),

    requeue: (id, at, expiresAt) =>
      base.requeue(id, at, expiresAt, async (trx) => {
        await sendJob(trx, id);
      }),
  };
  return {
    driver,
    boss,
    async close() {
      await boss.stop({ graceful: false, close: false });
    },
  };
}

/**
 * Gives every row waiting or in flight without a live job one (rows queued before this engine ran,
 * e.g. by the SQL-claim version of the outbox, or whose job was lost). Safe with instances running:
 * the queue's `exclusive` policy lets a key have one live job, and pg-boss's insert skips conflicts.
 * A `sending` row's new job, once fetched, follows the redelivery rule (see `claim`).
 */
async function adoptJobless(db: Kysely<Database>, boss: PgBoss): Promise<void> {
  const rows = await db
    .selectFrom('outbox_messages')
    .select(['id', 'next_attempt_at'])
    .where('status', 'in', ['queued', 'sending'])
    .execute();
  for (let i = 0; i < rows.length; i += 1000) {
    await boss.insert(
      OUTBOX_QUEUE,
      rows.slice(i, i + 1000).map((r) => {
        const delayMs = Date.parse(r.next_attempt_at) - Date.now();
        return {
          data: { id: r.id } satisfies OutboxJob,
          singletonKey: r.id,
          ...(delayMs > 0 ? { startAfter: delayMs / 1000 } : {}),
        };
      }),
    );
  }
}

async function ensureQueue(boss: PgBoss, name: string, options: Parameters<PgBoss['createQueue']>[1]) {
  const { policy: _policy, deadLetter, ...rest } = options ?? {};
  if (await boss.getQueue(name)) {
    // Options follow the configuration (e.g. a new lease); the policy of an existing queue is fixed.
    await boss.updateQueue(name, { ...rest, ...(deadLetter ? { deadLetter } : {}) });
    return;
  }
  try {
    await boss.createQueue(name, options);
  } catch (error) {
    // Another instance created it at the same moment.
    if (!(await boss.getQueue(name))) throw error;
  }
}
