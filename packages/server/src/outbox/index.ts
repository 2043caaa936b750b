import { type Kysely, SqliteAdapter } from 'kysely';
import type { Database } from '../store/schema.js';
import { createOutboxDriver, type OutboxDriver, type OutboxDriverHooks } from './driver.js';
import { postgresOutbox } from './postgres.js';
import { sqliteOutbox } from './sqlite.js';

/** The outbox driver for the server's store: SQLite (embedded, one instance) or PostgreSQL (many). */
export function outboxDriverFor(db: Kysely<Database>, hooks?: OutboxDriverHooks): OutboxDriver {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  return createOutboxDriver(db, sqlite ? sqliteOutbox : postgresOutbox, hooks);
}
