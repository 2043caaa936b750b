import { postgresOutbox } from './postgres.js';
import { sqliteOutbox } from './sqlite.js';

/**
 * The error says the database cannot be reached or cannot take writes right now (PostgreSQL down
 * or restarting, SQLite file busy or unwritable): the request may succeed later, so it is a 503
 * with Retry-After, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return postgresOutbox.isUnavailable(error) || sqliteOutbox.isUnavailable(error);
}
