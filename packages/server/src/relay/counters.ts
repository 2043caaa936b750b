import type { Logger } from '../logger.js';
import { type RelayRepository, relayDay } from '../store/relay-repository.js';

/**
 * Accepted-message counters, added up in memory and written in one batch per interval, so an
 * accepted message costs no database write on the SMTP path (the outbox commit is the write that
 * matters). The daily recipient limit reads the stored count plus what is still pending here.
 * A crash loses at most one interval of counts, never a message.
 */
export function createRelayCounters(deps: {
  repo: RelayRepository;
  now: () => Date;
  logger: Logger;
  /** @default 1000 */
  flushMs?: number;
}) {
  let pending = new Map<
    string,
    { deviceId: string; day: string; recipients: number; messages: number; at: Date }
  >();
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void flush(), deps.flushMs ?? 1000);
  timer.unref();

  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      for (const c of batch.values()) {
        try {
          await deps.repo.recordAccepted(c.deviceId, c.messages, c.recipients, c.at);
        } catch (error) {
          deps.logger.warn('relay counter write failed', { errorName: (error as Error).name });
        }
      }
    });
    return flushing;
  }

  return {
    accepted(deviceId: string, recipients: number): void {
      const at = deps.now();
      const day = relayDay(at);
      const key = `${deviceId}|${day}`;
      const entry = pending.get(key);
      if (entry) {
        entry.messages++;
        entry.recipients += recipients;
        entry.at = at;
      } else pending.set(key, { deviceId, day, recipients, messages: 1, at });
    },
    /** Recipients accepted today: stored plus pending. */
    async recipientsToday(deviceId: string): Promise<number> {
      const at = deps.now();
      const stored = await deps.repo.recipientsOn(deviceId, at);
      return stored + (pending.get(`${deviceId}|${relayDay(at)}`)?.recipients ?? 0);
    },
    flush,
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type RelayCounters = ReturnType<typeof createRelayCounters>;
