import { ServerError } from './errors.js';
import type { Logger } from './logger.js';
import { decryptSecret, encryptSecret, envelopeKeyId } from './secrets/envelope.js';
import { storedEnvelopeKeyIds } from './secrets/key-inventory.js';
import type { KeyRing } from './secrets/keyring.js';
import { generateKek, prependKeyToFile, pruneKeyFile } from './secrets/keyring.js';
import { liveInstances } from './secrets/live-keyring.js';
import type { Store } from './store/db.js';
import { createEmailServersRepository } from './store/email-servers-repository.js';
import { openWebhookSecret, sealWebhookSecret } from './webhooks/secret.js';

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
  // API keys' webhook signing secrets (0008), bound to their key's id like the entries' secrets.
  for (const row of await store.db
    .selectFrom('api_keys')
    .select(['id', 'webhook_secret'])
    .where('webhook_secret', 'is not', null)
    .execute()) {
    const envelope = row.webhook_secret as string;
    if (!options.force && envelopeKeyId(envelope) === ring.primary.id) {
      result.unchanged++;
      continue;
    }
    const next = sealWebhookSecret(ring, row.id, openWebhookSecret(ring, row.id, envelope));
    await store.db
      .updateTable('api_keys')
      .set({ webhook_secret: next })
      .where('id', '=', row.id)
      .where('webhook_secret', '=', envelope)
      .execute();
    result.reencrypted++;
  }
  options.logger?.info('secrets re-encrypted', { keyId: ring.primary.id, ...result });
  return result;
}

export interface RotateKeysOptions {
  /** The key file, when keys come from one (`--generate` and `--prune` need it). */
  keyFile?: string;
  /** Put a new key in front of the key file first. */
  generate?: boolean;
  /** Remove the old keys from the key file after everything was re-encrypted. */
  prune?: boolean;
  /** How long to wait for running instances to take up the new key. @default 30000 */
  waitMs?: number;
  /** @default 500 */
  pollMs?: number;
  now?: () => Date;
  logger?: Logger;
}

/**
 * The whole rotation, safe while servers run (issue 13 §3):
 * 1. `generate`: a new key goes in front of the key file;
 * 2. wait until every running instance (all of them, on a shared PostgreSQL) reports the new key as
 *    its encrypting key — they re-read the key file every 2 s — so nothing new is sealed under an old key;
 * 3. re-encrypt every secret under the new key;
 * 4. `prune`: only when no stored envelope names an old key, rewrite the file with the new key alone.
 *
 * @throws ServerError `KEY_ROTATION_INSTANCES_BEHIND` when an instance did not take up the key in time
 *   (nothing re-encrypted, nothing pruned); `KEY_PRUNE_REFUSED` when envelopes still name old keys.
 */
export async function rotateKeys(
  store: Store,
  ring: KeyRing,
  options: RotateKeysOptions = {},
): Promise<RotationResult & { ring: KeyRing; pruned: boolean }> {
  const now = options.now ?? (() => new Date());
  if ((options.generate || options.prune) && !options.keyFile)
    throw new ServerError('KEY_ROTATION_INVALID', '--generate and --prune work with the key file only', {
      hint: 'With SMTP_OAUTH_KEYS: put the new key first, restart every instance, run rotate-key, then remove the old key from SMTP_OAUTH_KEYS',
    });
  if (options.generate && options.keyFile) ring = prependKeyToFile(options.keyFile, generateKek(now()));

  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (;;) {
    const behind = (await liveInstances(store.db, now())).filter((i) => i.primaryKeyId !== ring.primary.id);
    if (behind.length === 0) break;
    if (Date.now() >= deadline)
      throw new ServerError(
        'KEY_ROTATION_INSTANCES_BEHIND',
        `Running instance${behind.length > 1 ? 's' : ''} ${behind
          .map((i) => `${i.host} pid ${i.pid} (encrypting under "${i.primaryKeyId}")`)
          .join(', ')} did not take up key "${ring.primary.id}"; nothing was re-encrypted or pruned`,
        {
          hint: 'Give every instance the same key file (they re-read it every 2 s) or the same SMTP_OAUTH_KEYS with the new key first and restart them, then run rotate-key again',
        },
      );
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }

  const result = await reencryptAll(store, ring, { ...(options.logger ? { logger: options.logger } : {}) });
  let pruned = false;
  if (options.prune && options.keyFile) {
    const old = [...(await storedEnvelopeKeyIds(store.db))].filter(([id]) => id !== ring.primary.id);
    if (old.length > 0)
      throw new ServerError(
        'KEY_PRUNE_REFUSED',
        `Not pruning: ${old.map(([id, n]) => `${n} secret(s) under "${id}"`).join(', ')} remain`,
        {
          hint: 'Run rotate-key again (without --generate) and prune once it reports every secret re-encrypted',
        },
      );
    ring = pruneKeyFile(options.keyFile);
    pruned = true;
  }
  return { ...result, ring, pruned };
}
