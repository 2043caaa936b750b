import type { AuditTrail } from '../audit.js';

export type RefusalReason = 'unauthenticated' | 'auth-failed' | 'auth-locked';

/**
 * Refused connections, aggregated per source address and reason, written to the audit trail in
 * batches: a scanner hammering the port yields one row per address and period, not one per try.
 */
export function createRefusalLog(audit: AuditTrail) {
  let pending = new Map<string, { peer: string; reason: RefusalReason; count: number }>();
  return {
    add(peer: string, reason: RefusalReason): void {
      const key = `${reason}|${peer}`;
      const entry = pending.get(key);
      if (entry) entry.count++;
      else pending.set(key, { peer, reason, count: 1 });
    },
    async flush(): Promise<void> {
      const batch = pending;
      pending = new Map();
      for (const { peer, reason, count } of batch.values()) {
        await audit.recordDenied({
          actor: 'anonymous',
          action: `relay.refused.${reason}`,
          target: `count:${count}`,
          fields: [],
          address: peer,
        });
      }
    },
  };
}

export type RefusalLog = ReturnType<typeof createRefusalLog>;
