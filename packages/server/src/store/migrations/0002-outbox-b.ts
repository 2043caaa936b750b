import type { Kysely, Migration } from 'kysely';

/**
 * The governor's shared state (used with PostgreSQL, where several instances send for one
 * mailbox): connection leases with an expiry (a dead instance's lapse by themselves) and the sends
 * of the last 24 h per mailbox (the per-minute and per-day windows). Created on SQLite too, unused there.
 */
export const outboxB: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('governor_leases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('governor_leases_key')
      .on('governor_leases')
      .columns(['key', 'expires_at'])
      .execute();
    await db.schema
      .createTable('governor_sends')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('recipients', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('governor_sends_key_at')
      .on('governor_sends')
      .columns(['key', 'at'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('governor_sends').ifExists().execute();
    await db.schema.dropTable('governor_leases').ifExists().execute();
  },
};
