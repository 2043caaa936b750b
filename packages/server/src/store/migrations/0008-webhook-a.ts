import type { Kysely, Migration } from 'kysely';

/**
 * An optional webhook per API key: its URL, its signing secret (an envelope, never plaintext — S1)
 * and the outcome of the last delivery, for the WebAdmin. Portable column types only.
 * Independent of the other 000N migrations.
 */
export const webhookApiKeys: Migration = {
  async up(db: Kysely<unknown>) {
    for (const column of [
      'webhook_url',
      'webhook_secret',
      'webhook_secret_created_at',
      'webhook_last_at',
      'webhook_last_outcome',
      'webhook_last_error',
      'webhook_last_event_id',
    ] as const)
      await db.schema.alterTable('api_keys').addColumn(column, 'text').execute();
    await db.schema.alterTable('api_keys').addColumn('webhook_last_http_status', 'integer').execute();
  },
};
