import type { Kysely } from 'kysely';
import { ServerError } from '../errors.js';
import type { Database } from '../store/schema.js';
import { envelopeKeyId } from './envelope.js';
import type { KeyRing } from './keyring.js';

/**
 * Which key-encryption keys the stored envelopes name, and how many envelopes each: the facts
 * behind "never start, prune or regenerate a key ring that would leave secrets unreadable" (S1, S2).
 */
export async function storedEnvelopeKeyIds(db: Kysely<Database>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const rows = await db.selectFrom('email_servers').select(['secrets_json']).execute();
  for (const row of rows) {
    let secrets: Record<string, unknown>;
    try {
      secrets = JSON.parse(row.secrets_json) as Record<string, unknown>;
    } catch {
      continue; // an unreadable row fails alone when it is used (see email-servers.ts)
    }
    for (const envelope of Object.values(secrets)) {
      const id = typeof envelope === 'string' ? envelopeKeyId(envelope) : undefined;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  // API keys' webhook signing secrets (0008).
  for (const row of await db
    .selectFrom('api_keys')
    .select(['webhook_secret'])
    .where('webhook_secret', 'is not', null)
    .execute()) {
    const id = row.webhook_secret ? envelopeKeyId(row.webhook_secret) : undefined;
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const describe = (missing: [string, number][]) =>
  missing.map(([id, n]) => `"${id}" (${n} secret${n === 1 ? '' : 's'})`).join(', ');

/**
 * Refuses a key ring that lacks a key some stored envelope names: starting with it would report
 * healthy while those secrets are lost.
 *
 * @throws ServerError `KEYRING_MISSING_KEYS`, naming the key ids and how to recover.
 */
export async function assertRingCoversStore(
  db: Kysely<Database>,
  ring: KeyRing,
  where: string,
): Promise<void> {
  const missing = [...(await storedEnvelopeKeyIds(db))].filter(([id]) => !ring.get(id));
  if (missing.length === 0) return;
  throw new ServerError(
    'KEYRING_MISSING_KEYS',
    `Stored secrets were encrypted under key ${describe(missing)}, which ${where} does not hold`,
    {
      hint: 'Restore the key file from your backup (DATA_DIR/keys or SMTP_OAUTH_KEY_FILE), or add the key to SMTP_OAUTH_KEYS after the encrypting key, and start again. A new key is never generated over stored secrets. If the key is lost for good, so are those secrets: delete the affected email servers with a database client and enter them again.',
    },
  );
}
