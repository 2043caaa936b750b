import type { Kysely, Selectable } from 'kysely';
import type { Database, LoginThrottleTable } from './schema.js';

export type ThrottleRow = Selectable<LoginThrottleTable>;

/**
 * Login-attempt counters, in the database so several server instances share them. Counting is an
 * atomic `failures = failures + 1`, so concurrent attempts cannot slip past the limit by all reading
 * the same old count.
 */
export function createThrottleRepository(db: Kysely<Database>) {
  return {
    async get(key: string): Promise<ThrottleRow | undefined> {
      return db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
    },
    /** Adds `delta` to the counter (starting a new window if the old one ended) and returns the row. */
    async bump(key: string, delta: number, at: Date, windowMs: number): Promise<ThrottleRow> {
      const now = at.toISOString();
      await db
        .insertInto('login_throttle')
        .values({ key, failures: 0, window_started_at: now, locked_until: null })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      await db
        .updateTable('login_throttle')
        .set({ failures: 0, window_started_at: now, locked_until: null })
        .where('key', '=', key)
        .where('window_started_at', '<', new Date(at.getTime() - windowMs).toISOString())
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .execute();
      await db
        .updateTable('login_throttle')
        .set((eb) => ({ failures: eb('failures', '+', delta) }))
        .where('key', '=', key)
        .execute();
      return (await this.get(key))!;
    },
    async lock(key: string, until: Date): Promise<void> {
      await db
        .updateTable('login_throttle')
        .set({ locked_until: until.toISOString() })
        .where('key', '=', key)
        .execute();
    },
    async clear(key: string): Promise<void> {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
  };
}

export type ThrottleRepository = ReturnType<typeof createThrottleRepository>;
