import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/schema.js';
import type { GovernorOptions } from './memory.js';
import type { Admission, Governor, Mailbox, MailboxUsage } from './types.js';
import { BACKOFF_MS, DAY_MS, decide, SHRINK_MS } from './window.js';

export interface PostgresGovernorOptions extends GovernorOptions {
  /** This instance's name on its leases. @default a random UUID */
  owner?: string;
  /**
   * A connection lease lives this long unless renewed (every third of it while held): a dead
   * instance's leases lapse by themselves. @default 30000
   */
  leaseMs?: number;
}

/**
 * The governor across every instance on one PostgreSQL: connection leases (rows with an expiry,
 * renewed by a heartbeat, so a dead instance gives them up by itself) and one shared window of
 * sends per mailbox. Each decision runs in a transaction under `pg_advisory_xact_lock` of the
 * mailbox, so two instances never both take the last place; the lock ends with the transaction
 * (no session state tied to a pooled connection).
 */
export function createPostgresGovernor(
  db: Kysely<Database>,
  options: PostgresGovernorOptions = {},
): Governor {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 60_000;
  const lingerMs = options.lingerMs ?? 200;
  const leaseMs = options.leaseMs ?? 30_000;
  const owner = options.owner ?? randomUUID();
  /** Leases held here: id → mailbox key. */
  const held = new Map<string, string>();
  const seen = new Set<string>();
  const local = new Map<string, { backoffUntil: number; shrink: number; shrinkUntil: number }>();
  let lastCleanup = 0;

  const heartbeat = setInterval(() => {
    if (held.size === 0) return;
    void db
      .updateTable('governor_leases')
      .set({ expires_at: new Date(now() + leaseMs).toISOString() })
      .where('id', 'in', [...held.keys()])
      .execute()
      .catch(() => {});
  }, leaseMs / 3);
  heartbeat.unref();

  return {
    async admit(mailbox: Mailbox, recipients: number): Promise<Admission> {
      const t = now();
      seen.add(mailbox.key);
      const mine = local.get(mailbox.key);
      if (mine && t < mine.backoffUntil)
        return { admitted: false, retryAt: mine.backoffUntil, reason: 'backoff' };
      const shrink = mine && t < mine.shrinkUntil ? mine.shrink : 0;
      const iso = new Date(t).toISOString();
      const id = randomUUID();
      const result = await db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`smtp-oauth governor ${mailbox.key}`}))`.execute(
          trx,
        );
        await trx
          .deleteFrom('governor_leases')
          .where('key', '=', mailbox.key)
          .where('expires_at', '<', iso)
          .execute();
        const active = await trx
          .selectFrom('governor_leases')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', '=', mailbox.key)
          .executeTakeFirstOrThrow();
        const dayStart = new Date(t - DAY_MS).toISOString();
        const minuteStart = new Date(t - windowMs).toISOString();
        const windows = await sql<{
          minute: number;
          minute_oldest: string | null;
          day: number;
          day_oldest: string | null;
        }>`
          SELECT count(*) FILTER (WHERE at > ${minuteStart}) AS minute,
                 min(at) FILTER (WHERE at > ${minuteStart}) AS minute_oldest,
                 coalesce(sum(recipients), 0) AS day,
                 min(at) AS day_oldest
            FROM governor_sends WHERE key = ${mailbox.key} AND at > ${dayStart}`.execute(trx);
        const w = windows.rows[0];
        const denied = decide(
          mailbox.limits,
          {
            active: Number(active.n),
            minute: {
              count: Number(w?.minute ?? 0),
              oldest: w?.minute_oldest ? Date.parse(w.minute_oldest) : undefined,
            },
            day: {
              recipients: Number(w?.day ?? 0),
              oldest: w?.day_oldest ? Date.parse(w.day_oldest) : undefined,
            },
          },
          recipients,
          t,
          windowMs,
          shrink,
        );
        if (denied) return denied;
        await trx
          .insertInto('governor_sends')
          .values({ id, key: mailbox.key, at: iso, recipients })
          .execute();
        await trx
          .insertInto('governor_leases')
          .values({ id, key: mailbox.key, owner, expires_at: new Date(t + leaseMs).toISOString() })
          .execute();
        return undefined;
      });
      if (result) return result;
      held.set(id, mailbox.key);
      if (t - lastCleanup > 3_600_000) {
        lastCleanup = t;
        void db
          .deleteFrom('governor_sends')
          .where('at', '<', new Date(t - DAY_MS).toISOString())
          .execute()
          .catch(() => {});
      }
      let released = false;
      return {
        admitted: true,
        async release() {
          if (released) return;
          released = true;
          await new Promise((r) => setTimeout(r, lingerMs));
          held.delete(id);
          // If this fails (database away), the lease lapses by itself after leaseMs.
          await db
            .deleteFrom('governor_leases')
            .where('id', '=', id)
            .execute()
            .catch(() => {});
        },
      };
    },
    throttled(mailbox: Mailbox): void {
      const t = now();
      const mine = local.get(mailbox.key) ?? { backoffUntil: 0, shrink: 0, shrinkUntil: 0 };
      mine.shrink = Math.min(
        (t < mine.shrinkUntil ? mine.shrink : 0) + 1,
        Math.max(0, mailbox.limits.maxConnections - 1),
      );
      mine.shrinkUntil = t + SHRINK_MS;
      mine.backoffUntil = t + BACKOFF_MS;
      local.set(mailbox.key, mine);
    },
    leases() {
      // Every mailbox this instance governed, 0 when it holds none now.
      const out: Record<string, number> = Object.fromEntries([...seen].map((k) => [k, 0]));
      for (const key of held.values()) out[key] = (out[key] ?? 0) + 1;
      return out;
    },
    async usage(key: string): Promise<MailboxUsage> {
      const t = now();
      // The shared tables, read only: every instance's leases and sends. Expired leases (a dead
      // instance's) are not counted; admit() deletes them.
      const r = await sql<{ connections: number; minute: number; day: number }>`
        SELECT (SELECT count(*) FROM governor_leases
                 WHERE key = ${key} AND expires_at >= ${new Date(t).toISOString()}) AS connections,
               (SELECT count(*) FROM governor_sends
                 WHERE key = ${key} AND at > ${new Date(t - windowMs).toISOString()}) AS minute,
               (SELECT coalesce(sum(recipients), 0) FROM governor_sends
                 WHERE key = ${key} AND at > ${new Date(t - DAY_MS).toISOString()}) AS day`.execute(db);
      const row = r.rows[0];
      const mine = local.get(key);
      return {
        connections: Number(row?.connections ?? 0),
        messagesLastMinute: Number(row?.minute ?? 0),
        recipientsLastDay: Number(row?.day ?? 0),
        backoffUntil: mine && t < mine.backoffUntil ? new Date(mine.backoffUntil).toISOString() : null,
      };
    },
    async close() {
      clearInterval(heartbeat);
    },
  };
}
