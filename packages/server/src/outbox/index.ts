import { type Kysely, SqliteAdapter } from 'kysely';
import type { Logger } from '../logger.js';
import type { Database } from '../store/schema.js';
import { createOutboxDriver, type OutboxDriver, type OutboxDriverHooks } from './driver.js';
import { openPgBossOutbox } from './pgboss.js';
import { postgresOutbox } from './postgres.js';
import { sqliteOutbox } from './sqlite.js';

/** The outbox driver for the server's store: SQLite (embedded, one instance) or PostgreSQL (many). */
export function outboxDriverFor(db: Kysely<Database>, hooks?: OutboxDriverHooks): OutboxDriver {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  return createOutboxDriver(db, sqlite ? sqliteOutbox : postgresOutbox, hooks);
}

/**
 * Opens the outbox's engine for the server's store: SQLite keeps its own claim statement (one
 * instance per file); PostgreSQL runs on pg-boss (many instances; see pgboss.ts), whose schema
 * `start()` creates or migrates. `close()` stops pg-boss (the store stays open).
 * @param leaseMs the outbox's lease, pg-boss's heartbeat (ms)
 */
export async function openOutboxEngine(
  db: Kysely<Database>,
  options: { logger: Logger; leaseMs?: number | undefined; hooks?: OutboxDriverHooks },
): Promise<{ driver: OutboxDriver; close(): Promise<void> }> {
  if (db.getExecutor().adapter instanceof SqliteAdapter)
    return { driver: createOutboxDriver(db, sqliteOutbox, options.hooks), close: async () => {} };
  const engine = await openPgBossOutbox(db, {
    logger: options.logger,
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  return { driver: engine.driver, close: engine.close };
}
