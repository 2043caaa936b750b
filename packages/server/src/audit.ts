import type { Kysely } from 'kysely';
import type { Logger } from './logger.js';
import type { AuditRepository, NewAuditEntry } from './store/audit-repository.js';
import type { Database } from './store/schema.js';

/** How denied requests are aggregated and limited, and how long records are kept (issue 13 §7). */
export interface AuditPolicy {
  /** Denials from one source to one route within this interval share one record. @default 60000 */
  deniedIntervalMs: number;
  /** Denials one source may cause per interval before its requests get 429 unprocessed. @default 300 */
  maxDeniedPerSource: number;
  /** Records older than this are deleted. @default 90 */
  retentionDays: number;
  /** How often retention runs. @default 6 h */
  cleanupEveryMs: number;
}

export const defaultAuditPolicy: AuditPolicy = {
  deniedIntervalMs: 60_000,
  maxDeniedPerSource: 300,
  retentionDays: 90,
  cleanupEveryMs: 6 * 3600_000,
};

// Bounded memory: beyond this many (source, route) pairs in one interval, the oldest is flushed.
const MAX_TRACKED = 10_000;

/**
 * Audit trail (S14): who did what to which record and which fields — field names only, never values.
 * Denials are aggregated per source and route per interval, so a flood writes one row and one update
 * per interval instead of a row per request (500 requests wrote 500 rows before).
 */
export function createAuditTrail(deps: {
  repo: AuditRepository;
  now: () => Date;
  logger: Logger;
  policy?: Partial<AuditPolicy>;
}) {
  const policy = { ...defaultAuditPolicy, ...deps.policy };
  // (source|route) → the record of this interval and denials not yet added to it.
  const open = new Map<string, { id: Promise<string | undefined>; pending: number; started: number }>();
  const perSource = new Map<string, { started: number; count: number }>();

  const flushOne = async (key: string) => {
    const slot = open.get(key);
    open.delete(key);
    if (!slot || slot.pending === 0) return;
    const id = await slot.id;
    if (id) await deps.repo.addCount(id, slot.pending);
  };
  const flushAll = async () => {
    for (const key of [...open.keys()]) await flushOne(key).catch(() => undefined);
  };
  const flushExpired = async (now: number) => {
    for (const [key, slot] of open)
      if (now - slot.started >= policy.deniedIntervalMs) await flushOne(key).catch(() => undefined);
    for (const [source, s] of perSource)
      if (now - s.started >= policy.deniedIntervalMs) perSource.delete(source);
  };

  const cleanup = async () => {
    const before = new Date(deps.now().getTime() - policy.retentionDays * 86_400_000);
    const removed = await deps.repo.deleteBefore(before);
    if (removed > 0)
      deps.logger.info('audit records past retention deleted', {
        removed,
        retentionDays: policy.retentionDays,
      });
    return removed;
  };
  const flushTimer = setInterval(
    () => void flushExpired(deps.now().getTime()),
    Math.min(policy.deniedIntervalMs, 10_000),
  );
  flushTimer.unref();
  const cleanupTimer = setInterval(() => void cleanup().catch(() => undefined), policy.cleanupEveryMs);
  cleanupTimer.unref();

  return {
    policy,
    /** For changes: a failed write fails the request (an unaudited change must not pass silently). */
    async record(entry: NewAuditEntry, transaction?: Kysely<Database>): Promise<void> {
      await deps.repo.append(entry, deps.now(), transaction);
    },
    /**
     * For denials: best effort, so an audit hiccup cannot turn a 401/403 into a 500. The first denial
     * of a source and route in an interval is written; the next ones add to its `count`.
     */
    async recordDenied(entry: Omit<NewAuditEntry, 'outcome'>): Promise<void> {
      const now = deps.now().getTime();
      const source = entry.address ?? 'unknown';
      const s = perSource.get(source);
      if (s && now - s.started < policy.deniedIntervalMs) s.count++;
      else perSource.set(source, { started: now, count: 1 });
      const key = `${source}|${entry.action}`;
      const slot = open.get(key);
      if (slot && now - slot.started < policy.deniedIntervalMs) {
        slot.pending++;
        return;
      }
      if (slot) await flushOne(key).catch(() => undefined);
      if (open.size >= MAX_TRACKED) await flushOne(open.keys().next().value as string).catch(() => undefined);
      const id = deps.repo.append({ ...entry, outcome: 'denied' }, deps.now()).catch((error: unknown) => {
        deps.logger.warn('audit write failed', { action: entry.action, errorName: (error as Error)?.name });
        return undefined;
      });
      open.set(key, { id, pending: 0, started: now });
      await id;
    },
    /** Seconds until a source that caused too many denials may try again; 0 when it may now. */
    deniedRetryAfter(address: string | undefined): number {
      const s = perSource.get(address ?? 'unknown');
      const now = deps.now().getTime();
      if (!s || now - s.started >= policy.deniedIntervalMs || s.count < policy.maxDeniedPerSource) return 0;
      return Math.max(1, Math.ceil((s.started + policy.deniedIntervalMs - now) / 1000));
    },
    /** Writes pending denial counts (tests and shutdown). */
    flush: flushAll,
    /** Deletes records past retention now; returns how many. */
    cleanup,
    async close(): Promise<void> {
      clearInterval(flushTimer);
      clearInterval(cleanupTimer);
      await flushAll();
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
