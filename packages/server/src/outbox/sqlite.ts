import { sql } from 'kysely';
import type { OutboxDialect } from './driver.js';

// better-sqlite3 error codes meaning "the file cannot take this write now", not a bad request.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;

/**
 * The embedded driver: one server instance per SQLite file (the server's own store). SQLite runs
 * one write at a time, so a plain `UPDATE … WHERE id IN (SELECT …) RETURNING` claims atomically.
 */
export const sqliteOutbox: OutboxDialect = {
  name: 'sqlite',
  claimLock: sql``,
  isUniqueViolation: (error) =>
    typeof error === 'object' &&
    error !== null &&
    /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(String((error as { code?: unknown }).code)),
  isUnavailable: (error) =>
    typeof error === 'object' &&
    error !== null &&
    UNAVAILABLE.test(String((error as { code?: unknown }).code)),
};
