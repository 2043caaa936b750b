import type { Kysely, Migration } from 'kysely';

/**
 * Webhook events waiting for (or done with) delivery. A row is written in the same transaction as
 * the outbox message's final state, so an event cannot be lost between the two; deliveries are
 * claimed under a lease like outbox messages (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
 */
export const webhookDeliveries: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhook_deliveries')
      // The Standard Webhooks `webhook-id`: the same on every retry, so receivers can deduplicate.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('api_key_id', 'text', (c) => c.notNull())
      .addColumn('outbox_id', 'text')
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      // pending → delivering → delivered | failed (retries exhausted) | dropped (webhook removed)
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'text')
      .addColumn('last_http_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_key')
      .on('webhook_deliveries')
      .columns(['api_key_id', 'id'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('webhook_deliveries').ifExists().execute();
  },
};
