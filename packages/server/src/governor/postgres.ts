import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { GovernorOptions } from './memory.js';
import type { Admission, Governor, LeaseAnswer, Mailbox, MailboxUsage, Refusal } from './types.js';
import { BACKOFF_MS, connectionShare, DAY_MS, decideConnection, decideWindows, SHRINK_MS } from './window.js';

export interface PostgresGovernorOptions extends GovernorOptions {
  /** This instance's name on its leases. @default a random UUID */
  owner?: string;
  /**
   * A connection lease lives this long unless renewed (every third of it while held): a dead
   * instance's leases lapse by themselves. @default 30000
   */
  leaseMs?: number;
  /**
   * The clock of lease expiry, ms: the real one, as the heartbeat that renews leases runs on real
   * timers (a lease held for an open connection must not lapse when `now` is moved). @default Date.now
   */
  leaseClock?: () => number;
}

/**
 * The governor across every instance on one PostgreSQL: connection leases (rows with an expiry,
 * renewed by a heartbeat while the connection is open, so a dead instance gives them up by itself)
 * and one shared window of messages per mailbox. Each decision runs in a transaction under
 * `pg_advisory_xact_lock` of the mailbox, so two instances never both take the last place; the lock
 * ends with the transaction (no session state tied to a pooled connection).
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
  const leaseClock = options.leaseClock ?? Date.now;
  /** Leases held here: id → mailbox key and whether the heartbeat still renews it. */
  const held = new Map<string, { key: string; held: boolean }>();
  const seen = new Set<string>();
  const local = new Map<string, { backoffUntil: number; shrink: number; shrinkUntil: number }>();
  let lastCleanup = 0;

  const heartbeat = setInterval(() => {
    if (held.size === 0) return;
    const ids = [...held.keys()];
    void db
      .updateTable('governor_leases')
      .set({ expires_at: new Date(leaseClock() + leaseMs).toISOString() })
      .where('id', 'in', ids)
      .where('owner', '=', owner)
      .returning('id')
      .execute()
      .then((renewed) => {
        // A lease not renewed expired and was taken away (another instance deleted it after a
        // database outage longer than leaseMs): its connection must close.
        const alive = new Set(renewed.map((r) => r.id));
        for (const id of ids) {
          const lease = held.get(id);
          if (lease && !alive.has(id)) lease.held = false;
        }
      })
      .catch(() => {});
  }, leaseMs / 3);
  heartbeat.unref();

  const shrinkOf = (key: string, t: number) => {
    const mine = local.get(key);
    return mine && t < mine.shrinkUntil ? mine.shrink : 0;
  };
  const backoff = (key: string, t: number): Refusal | undefined => {
    const mine = local.get(key);
    return mine && t < mine.backoffUntil
      ? { admitted: false, retryAt: mine.backoffUntil, reason: 'backoff' }
      : undefined;
  };
  /** Runs `decide` in a transaction holding the mailbox's advisory lock. */
  const locked = <T>(key: string, decide: (trx: Transaction<Database>) => Promise<T>) =>
    db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`smtp-oauth governor ${key}`}))`.execute(trx);
      return decide(trx);
    });

  return {
    async lease(mailbox: Mailbox): Promise<LeaseAnswer> {
      const t = now();
      seen.add(mailbox.key);
      const waiting = backoff(mailbox.key, t);
      if (waiting) return waiting;
      const leaseAt = leaseClock();
      const id = randomUUID();
      const denied = await locked(mailbox.key, async (trx) => {
        await trx
          .deleteFrom('governor_leases')
          .where('key', '=', mailbox.key)
          .where('expires_at', '<', new Date(leaseAt).toISOString())
          .execute();
        const active = await trx
          .selectFrom('governor_leases')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', '=', mailbox.key)
          .executeTakeFirstOrThrow();
        const refused = decideConnection(mailbox.limits, Number(active.n), t, shrinkOf(mailbox.key, t));
        if (refused) return refused;
        await trx
          .insertInto('governor_leases')
          .values({ id, key: mailbox.key, owner, expires_at: new Date(leaseAt + leaseMs).toISOString() })
          .execute();
        return undefined;
      });
      if (denied) return denied;
      const state = { key: mailbox.key, held: true };
      held.set(id, state);
      let released = false;
      return {
        admitted: true,
        lease: {
          get held() {
            return state.held;
          },
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
        },
      };
    },
    async admit(mailbox: Mailbox, recipients: number): Promise<Admission> {
      const t = now();
      seen.add(mailbox.key);
      const waiting = backoff(mailbox.key, t);
      if (waiting) return waiting;
      const iso = new Date(t).toISOString();
      const denied = await locked(mailbox.key, async (trx) => {
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
        const refused = decideWindows(
          mailbox.limits,
          {
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
        );
        if (refused) return refused;
        await trx
          .insertInto('governor_sends')
          .values({ id: randomUUID(), key: mailbox.key, at: iso, recipients })
          .execute();
        return undefined;
      });
      if (denied) return denied;
      if (t - lastCleanup > 3_600_000) {
        lastCleanup = t;
        void db
          .deleteFrom('governor_sends')
          .where('at', '<', new Date(t - DAY_MS).toISOString())
          .execute()
          .catch(() => {});
      }
      return { admitted: true };
    },
    throttled(mailbox: Mailbox): void {
      const t = now();
      const mine = local.get(mailbox.key) ?? { backoffUntil: 0, shrink: 0, shrinkUntil: 0 };
      mine.shrink = Math.min(shrinkOf(mailbox.key, t) + 1, Math.max(0, mailbox.limits.maxConnections - 1));
      mine.shrinkUntil = t + SHRINK_MS;
      mine.backoffUntil = t + BACKOFF_MS;
      local.set(mailbox.key, mine);
    },
    share(mailbox: Mailbox): number {
      return connectionShare(mailbox.limits, shrinkOf(mailbox.key, now()));
    },
    leases() {
      // Every mailbox this instance governed, 0 when it holds none now.
      const out: Record<string, number> = Object.fromEntries([...seen].map((k) => [k, 0]));
      for (const { key } of held.values()) out[key] = (out[key] ?? 0) + 1;
      return out;
    },
    async usage(key: string): Promise<MailboxUsage> {
      const t = now();
      // The shared tables, read only: every instance's leases and sends. Expired leases (a dead
      // instance's) are not counted; admit() deletes them.
      const r = await sql<{ connections: number; minute: number; day: number }>`
        SELECT (SELECT count(*) FROM governor_leases
                 WHERE key = ${key} AND expires_at >= ${new Date(leaseClock()).toISOString()}) AS connections,
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
