import { sql } from 'kysely';
import type { OutboxDialect } from './driver.js';

/**
 * Connection-level failures (node's errno codes) and PostgreSQL SQLSTATEs of class 08 (connection
 * exception), 57P0x (server shutting down / crash recovery) and 53300 (too many connections): the
 * database is unreachable for now; the request may be retried. Source: PostgreSQL manual, Appendix A.
 */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '53300',
  '57P01',
  '57P02',
  '57P03',
]);

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : '';
}

/**
 * The multi-instance driver: many servers share one PostgreSQL. `FOR UPDATE SKIP LOCKED` lets
 * every instance claim due rows without waiting on, or double-claiming, another's.
 */
export const postgresOutbox: OutboxDialect = {
  name: 'postgres',
  claimLock: sql`FOR UPDATE SKIP LOCKED`,
  isUniqueViolation: (error) => codeOf(error) === '23505',
  isUnavailable: (error) => {
    const code = codeOf(error);
    if (UNAVAILABLE.has(code) || code.startsWith('08')) return true;
    // pg reports a connection dropped mid-query without a code.
    return (
      error instanceof Error &&
      /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
        error.message,
      )
    );
  },
};
