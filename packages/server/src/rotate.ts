import type { Logger } from './logger.js';
import { decryptSecret, encryptSecret, envelopeKeyId } from './secrets/envelope.js';
import type { KeyRing } from './secrets/keyring.js';
import type { Store } from './store/db.js';
import { createEmailServersRepository } from './store/email-servers-repository.js';

export interface RotationResult {
  /** Secrets re-encrypted under the primary key. */
  reencrypted: number;
  /** Secrets already under the primary key (re-encrypted too when `force`). */
  unchanged: number;
}

/**
 * Re-encrypts every stored secret under the key ring's primary key (S2). Each secret is decrypted
 * with whichever key wrapped it, so the old key can be dropped afterwards. Any decrypt failure
 * aborts before that record is written: nothing is silently lost.
 */
export async function reencryptAll(
  store: Store,
  ring: KeyRing,
  options: { logger?: Logger; force?: boolean } = {},
): Promise<RotationResult> {
  const repo = createEmailServersRepository(store.db);
  const result: RotationResult = { reencrypted: 0, unchanged: 0 };
  for (const record of await repo.list()) {
    let changed = false;
    const next: Record<string, string> = {};
    for (const [field, envelope] of Object.entries(record.secrets)) {
      if (!options.force && envelopeKeyId(envelope) === ring.primary.id) {
        next[field] = envelope;
        result.unchanged++;
        continue;
      }
      const ctx = { table: 'email_servers', recordId: record.id, field };
      next[field] = encryptSecret(ring, decryptSecret(ring, envelope, ctx), ctx);
      result.reencrypted++;
      changed = true;
    }
    if (changed) await repo.updateSecrets(record.id, next);
  }
  options.logger?.info('secrets re-encrypted', { keyId: ring.primary.id, ...result });
  return result;
}
