import type { Kysely } from 'kysely';
import type { Logger } from './logger.js';
import type { AuditRepository, NewAuditEntry } from './store/audit-repository.js';
import type { Database } from './store/schema.js';

/**
 * Audit trail (S14): who did what to which record and which fields — field names only, never values.
 */
export function createAuditTrail(deps: { repo: AuditRepository; now: () => Date; logger: Logger }) {
  return {
    /** For changes: a failed write fails the request (an unaudited change must not pass silently). */
    async record(entry: NewAuditEntry, transaction?: Kysely<Database>): Promise<void> {
      await deps.repo.append(entry, deps.now(), transaction);
    },
    /** For denials: best effort, so an audit hiccup cannot turn a 401/403 into a 500. */
    async recordDenied(entry: Omit<NewAuditEntry, 'outcome'>): Promise<void> {
      try {
        await deps.repo.append({ ...entry, outcome: 'denied' }, deps.now());
      } catch (error) {
        deps.logger.warn('audit write failed', { action: entry.action, errorName: (error as Error)?.name });
      }
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
