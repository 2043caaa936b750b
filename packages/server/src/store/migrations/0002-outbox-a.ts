import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The outbox (accepted = persisted) and its attempts. Portable column types only, so one migration
 * serves SQLite and PostgreSQL. The rows of the old `sent_log` are copied in as finished messages
 * without content: the sent log is now a view of the outbox, and no logged send is lost on upgrade.
 */
export const outboxA: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('outbox_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('entry_id', 'text')
      .addColumn('source_kind', 'text', (c) => c.notNull())
      .addColumn('source_id', 'text')
      .addColumn('idempotency_key', 'text')
      .addColumn('payload_hash', 'text')
      .addColumn('message_id', 'text', (c) => c.notNull())
      // 'message' (core's MailMessage as JSON), 'raw' (base64 MIME) or 'none' (imported log rows).
      .addColumn('content_kind', 'text', (c) => c.notNull())
      .addColumn('content', 'text')
      .addColumn('envelope_json', 'text')
      .addColumn('recipient_count', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'text')
      // 1 once the message was handed to the mailer: a lost lease then means "outcome unknown".
      .addColumn('transmitting', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_code', 'text')
      .addColumn('last_hint', 'text')
      .addColumn('last_reply', 'text')
      .addColumn('accepted_json', 'text')
      .addColumn('rejected_json', 'text')
      .addColumn('finished_at', 'text')
      .execute();
    // Idempotency: unique per source (API key, device); rows without a key never collide (NULLs).
    await db.schema
      .createIndex('outbox_messages_idempotency')
      .on('outbox_messages')
      .columns(['source_kind', 'source_id', 'idempotency_key'])
      .unique()
      .execute();
    await db.schema
      .createIndex('outbox_messages_due')
      .on('outbox_messages')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('outbox_messages_entry')
      .on('outbox_messages')
      .columns(['entry_id', 'id'])
      .execute();

    await db.schema
      .createTable('outbox_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('outbox_id', 'text', (c) => c.notNull().references('outbox_messages.id').onDelete('cascade'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('code', 'text')
      .addColumn('reply', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('instance', 'text')
      .execute();
    await db.schema
      .createIndex('outbox_attempts_outbox')
      .on('outbox_attempts')
      .columns(['outbox_id', 'at'])
      .execute();

    await sql`
      INSERT INTO outbox_messages (id, created_at, updated_at, entry_id, source_kind, source_id, message_id,
        content_kind, recipient_count, status, attempts, next_attempt_at, expires_at, last_code, last_reply, finished_at)
      SELECT id, at, at, server_id, CASE WHEN api_key_id IS NULL THEN 'admin' ELSE 'api' END, api_key_id, '',
        'none', recipient_count, status, 1, at, at, error_code, server_reply, at
      FROM sent_log`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('outbox_attempts').ifExists().execute();
    await db.schema.dropTable('outbox_messages').ifExists().execute();
  },
};
