import type { Kysely, Migration } from 'kysely';

// The relay's devices and their per-day counters. Portable column types only (text/integer), so one
// migration serves SQLite and PostgreSQL. Independent of the other 000N migrations.
export const relay: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('relay_devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('entry_id', 'text')
      .addColumn('allowed_ips_json', 'text', (c) => c.notNull())
      .addColumn('allowed_senders_json', 'text', (c) => c.notNull())
      .addColumn('from_policy', 'text', (c) => c.notNull())
      .addColumn('max_recipients_per_message', 'integer')
      .addColumn('max_recipients_per_day', 'integer')
      .addColumn('max_message_bytes', 'integer')
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('last_error_at', 'text')
      .addColumn('last_error', 'text')
      .execute();

    await db.schema
      .createTable('relay_counters')
      .addColumn('device_id', 'text', (c) => c.notNull().references('relay_devices.id').onDelete('cascade'))
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('messages', 'integer', (c) => c.notNull())
      .addColumn('recipients', 'integer', (c) => c.notNull())
      .addColumn('refused', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('relay_counters_pk', ['device_id', 'day'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('relay_counters').ifExists().execute();
    await db.schema.dropTable('relay_devices').ifExists().execute();
  },
};
