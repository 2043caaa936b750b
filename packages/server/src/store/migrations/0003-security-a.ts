import type { Kysely, Migration } from 'kysely';

// Running instances and the key ids they hold, so `rotate-key` can wait until every live instance
// has taken up a new key file before it re-encrypts or prunes (S2; issue 13 §3).
export const securityKeyInstances: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('key_ring_instances')
      .addColumn('instance_id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('primary_key_id', 'text', (c) => c.notNull())
      .addColumn('key_ids_json', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('key_ring_instances').ifExists().execute();
  },
};
