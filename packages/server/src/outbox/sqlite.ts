import { sql } from 'kysely';
import type { OutboxDialect, OutboxRow } from './driver.js';

// better-sqlite3 error codes meaning "the file cannot take this write now", not a bad request.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;

/**
 * The embedded driver: one server instance per SQLite file (the server's own store). SQLite runs
 * one write at a time, so a plain `UPDATE … WHERE id IN (SELECT …) RETURNING` claims atomically.
 */
export const sqliteOutbox: OutboxDialect = {
  name: 'sqlite',
  async claim(db, { owner, now, leaseUntil, limit, excludeEntries }) {
    const exclude =
      excludeEntries.length > 0
        ? sql`AND (entry_id IS NULL OR entry_id NOT IN (${sql.join(excludeEntries)}))`
        : sql``;
    const result = await sql<OutboxRow>`
      UPDATE outbox_messages
         SET status = 'sending', lease_owner = ${owner}, lease_expires_at = ${leaseUntil},
             transmitting = 0, updated_at = ${now}
       WHERE id IN (SELECT id FROM outbox_messages
                     WHERE status = 'queued' AND next_attempt_at <= ${now} ${exclude}
                     ORDER BY next_attempt_at, id LIMIT ${limit})
      RETURNING *`.execute(db);
    return result.rows;
  },
  isUniqueViolation: (error) =>
    typeof error === 'object' &&
    error !== null &&
    /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(String((error as { code?: unknown }).code)),
  isUnavailable: (error) =>
    typeof error === 'object' &&
    error !== null &&
    UNAVAILABLE.test(String((error as { code?: unknown }).code)),
};
