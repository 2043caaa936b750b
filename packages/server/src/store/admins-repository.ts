import type { Kysely, Selectable } from 'kysely';
import { newId } from './ids.js';
import type { AdminsTable, Database } from './schema.js';

export type AdminRow = Selectable<AdminsTable>;

export function createAdminsRepository(db: Kysely<Database>) {
  return {
    async count(): Promise<number> {
      const row = await db
        .selectFrom('admins')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async findByEmail(email: string): Promise<AdminRow | undefined> {
      return db.selectFrom('admins').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    },
    async list(): Promise<AdminRow[]> {
      return db.selectFrom('admins').selectAll().orderBy('created_at').orderBy('email').execute();
    },
    async delete(id: string): Promise<boolean> {
      await db.deleteFrom('sessions').where('admin_id', '=', id).execute();
      const r = await db.deleteFrom('admins').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async findById(id: string): Promise<AdminRow | undefined> {
      return db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async setPassword(id: string, passwordHash: string, at: Date): Promise<void> {
      await db
        .updateTable('admins')
        .set({ password_hash: passwordHash, updated_at: at.toISOString() })
        .where('id', '=', id)
        .execute();
    },
    async create(input: { email: string; passwordHash: string; at: Date }): Promise<AdminRow> {
      const row: AdminRow = {
        id: newId(),
        email: input.email.toLowerCase(),
        password_hash: input.passwordHash,
        created_at: input.at.toISOString(),
        updated_at: input.at.toISOString(),
      };
      await db.insertInto('admins').values(row).execute();
      return row;
    },
  };
}

export type AdminsRepository = ReturnType<typeof createAdminsRepository>;
