import type { SentLogEntry } from '@org/core/api';
import type { Kysely } from 'kysely';
import { createSortableIds } from './ids.js';
import type { Database } from './schema.js';

export type { SentLogEntry };

export function createSentLogRepository(db: Kysely<Database>) {
  const nextId = createSortableIds();
  return {
    /** Several rows in one statement (the sent-log writer batches rows of concurrent sends). */
    async appendMany(rows: { entry: Omit<SentLogEntry, 'id' | 'at'>; at: Date }[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('sent_log')
        .values(
          rows.map(({ entry, at }) => ({
            id: nextId(at),
            at: at.toISOString(),
            server_id: entry.serverId,
            api_key_id: entry.apiKeyId,
            recipient_count: entry.recipientCount,
            status: entry.status,
            error_code: entry.errorCode,
            server_reply: entry.serverReply,
          })),
        )
        .execute();
    },
    async append(entry: Omit<SentLogEntry, 'id' | 'at'>, at: Date): Promise<string> {
      const id = nextId(at);
      await db
        .insertInto('sent_log')
        .values({
          id,
          at: at.toISOString(),
          server_id: entry.serverId,
          api_key_id: entry.apiKeyId,
          recipient_count: entry.recipientCount,
          status: entry.status,
          error_code: entry.errorCode,
          server_reply: entry.serverReply,
        })
        .execute();
      return id;
    },
    async list(options: {
      limit: number;
      before?: string | undefined;
      serverId?: string | undefined;
    }): Promise<SentLogEntry[]> {
      let q = db.selectFrom('sent_log').selectAll();
      if (options.before) q = q.where('id', '<', options.before);
      if (options.serverId) q = q.where('server_id', '=', options.serverId);
      const rows = await q.orderBy('id', 'desc').limit(options.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        serverId: r.server_id,
        apiKeyId: r.api_key_id,
        recipientCount: Number(r.recipient_count),
        status: r.status as SentLogEntry['status'],
        errorCode: r.error_code,
        serverReply: r.server_reply,
      }));
    },
  };
}

export type SentLogRepository = ReturnType<typeof createSentLogRepository>;
