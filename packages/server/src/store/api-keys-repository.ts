import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from './schema.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

/** The webhook columns (0008): absent on insert, NULL until a webhook is set. */
type WebhookColumns = Extract<keyof ApiKeyRow, `webhook_${string}`>;

export function createApiKeysRepository(db: Kysely<Database>) {
  return {
    /** `scope_json` omitted: an unbound key (see auth/api-key-scope.ts). */
    async insert(
      row: Omit<ApiKeyRow, 'scope_json' | WebhookColumns> & { scope_json?: string | null },
    ): Promise<void> {
      await db
        .insertInto('api_keys')
        .values({ ...row, scope_json: row.scope_json ?? null })
        .execute();
    },
    async list(): Promise<ApiKeyRow[]> {
      return db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
    },
    async findById(id: string): Promise<ApiKeyRow | undefined> {
      return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async findActiveByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
      return db
        .selectFrom('api_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
    },
    async revoke(id: string, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: at.toISOString() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setScope(id: string, scopeJson: string): Promise<boolean> {
      const result = await db
        .updateTable('api_keys')
        .set({ scope_json: scopeJson })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /**
     * Sets an active key's webhook URL and, when given, a new secret envelope (the last delivery
     * status is reset with a new secret: it described the old one).
     */
    async setWebhook(
      id: string,
      webhook: { url: string; secretEnvelope?: string; secretCreatedAt?: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable('api_keys')
        .set({
          webhook_url: webhook.url,
          ...(webhook.secretEnvelope
            ? {
                webhook_secret: webhook.secretEnvelope,
                webhook_secret_created_at: webhook.secretCreatedAt ?? null,
              }
            : {}),
        })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** Removes a key's webhook: URL, secret and last status. Queued events are then dropped. */
    async clearWebhook(id: string): Promise<boolean> {
      const result = await db
        .updateTable('api_keys')
        .set({
          webhook_url: null,
          webhook_secret: null,
          webhook_secret_created_at: null,
          webhook_last_at: null,
          webhook_last_outcome: null,
          webhook_last_http_status: null,
          webhook_last_error: null,
          webhook_last_event_id: null,
        })
        .where('id', '=', id)
        .where('webhook_url', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async touch(id: string, at: Date): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at.toISOString() }).where('id', '=', id).execute();
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
