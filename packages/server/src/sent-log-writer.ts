import type { Logger } from './logger.js';
import type { SentLogEntry, SentLogRepository } from './store/sent-log-repository.js';

/**
 * Writes sent-log rows behind the response: rows of sends that finish within `delayMs` go into the
 * database as one INSERT, so a burst of sends costs a few statements instead of one each. Readers
 * call `flush()` first; shutdown flushes too. A failed write is logged (ids and code only) — it
 * never fails a send that already happened. A crash loses at most the last `delayMs` of rows.
 */
export function createSentLogWriter(deps: { repo: SentLogRepository; logger: Logger; delayMs?: number }) {
  const delayMs = deps.delayMs ?? 25;
  const queue: { entry: Omit<SentLogEntry, 'id' | 'at'>; at: Date }[] = [];
  let pending: Promise<void> | undefined;

  function drain(): Promise<void> {
    pending ??= new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref()).then(async () => {
      // Rows queued while this batch is written go into the next one.
      while (queue.length > 0) {
        const batch = queue.splice(0, 500);
        try {
          await deps.repo.appendMany(batch);
        } catch (error) {
          deps.logger.warn('sent-log write failed', {
            rows: batch.length,
            errorCode: (error as { code?: unknown })?.code,
          });
        }
      }
      pending = undefined;
    });
    return pending;
  }

  return {
    append(entry: Omit<SentLogEntry, 'id' | 'at'>, at: Date): void {
      queue.push({ entry, at });
      void drain();
    },
    /** Resolves once every row appended so far is in the database (without waiting for the delay). */
    async flush(): Promise<void> {
      while (queue.length > 0 || pending) {
        if (pending) {
          await pending;
          continue;
        }
        const batch = queue.splice(0, 500);
        await deps.repo.appendMany(batch);
      }
    },
    /** Test seam: rows not yet written. */
    get queued(): number {
      return queue.length;
    },
  };
}

export type SentLogWriter = ReturnType<typeof createSentLogWriter>;
