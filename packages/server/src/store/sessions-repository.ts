import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable } from './schema.js';

export type SessionRow = Selectable<SessionsTable>;

export function createSessionsRepository(db: Kysely<Database>) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto('sessions').values(row).execute();
    },
    async find(idHash: string): Promise<SessionRow | undefined> {
      return db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    },
    async touch(idHash: string, at: Date): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: at.toISOString() })
        .where('id_hash', '=', idHash)
        .execute();
    },
    async delete(idHash: string): Promise<void> {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
    /** Ends an admin's sessions except one (a password change keeps the session that made it). */
    async deleteForAdmin(adminId: string, exceptIdHash?: string): Promise<void> {
      let q = db.deleteFrom('sessions').where('admin_id', '=', adminId);
      if (exceptIdHash) q = q.where('id_hash', '!=', exceptIdHash);
      await q.execute();
    },
    async deleteExpired(at: Date): Promise<void> {
      await db.deleteFrom('sessions').where('expires_at', '<=', at.toISOString()).execute();
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
