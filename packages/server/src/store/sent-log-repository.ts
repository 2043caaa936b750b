import type { SentLogEntry } from '@org/core/api';
import type { Kysely } from 'kysely';
import { createSortableIds } from './ids.js';
import type { Database } from './schema.js';

export type { SentLogEntry };

/** Outbox states shown in the sent log: finished deliveries (`unknown` shows as failed with its code). */
const FINISHED = ['sent', 'failed', 'unknown'];

/**
 * The sent log is a view of the outbox: one line per finished message (time, entry, API key,
 * recipient count, status, code, last reply) — never addresses, subject or body. Nothing is
 * buffered: a message's row is the one the outbox committed.
 */
export function createSentLogRepository(db: Kysely<Database>) {
  const nextId = createSortableIds();
  return {
    /**
     * Records a send that did not go through the outbox (imports, tests) as a finished outbox row
     * without content.
     */
    async append(entry: Omit<SentLogEntry, 'id' | 'at'>, at: Date): Promise<string> {
      const id = nextId(at);
      const iso = at.toISOString();
      await db
        .insertInto('outbox_messages')
        .values({
          id,
          created_at: iso,
          updated_at: iso,
          entry_id: entry.serverId,
          source_kind: entry.apiKeyId ? 'api' : 'admin',
          source_id: entry.apiKeyId,
          idempotency_key: null,
          payload_hash: null,
          message_id: '',
          content_kind: 'none',
          content: null,
          envelope_json: null,
          recipient_count: entry.recipientCount,
          status: entry.status,
          attempts: 1,
          next_attempt_at: iso,
          expires_at: iso,
          lease_owner: null,
          lease_expires_at: null,
          transmitting: 0,
          last_code: entry.errorCode,
          last_hint: null,
          last_reply: entry.serverReply,
          accepted_json: null,
          rejected_json: null,
          finished_at: iso,
        })
        .execute();
      return id;
    },
    async list(options: {
      limit: number;
      before?: string | undefined;
      serverId?: string | undefined;
    }): Promise<SentLogEntry[]> {
      let q = db.selectFrom('outbox_messages').selectAll().where('status', 'in', FINISHED);
      if (options.before) q = q.where('id', '<', options.before);
      if (options.serverId) q = q.where('entry_id', '=', options.serverId);
      const rows = await q.orderBy('id', 'desc').limit(options.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.finished_at ?? r.updated_at,
        serverId: r.entry_id,
        apiKeyId: r.source_kind === 'api' ? r.source_id : null,
        recipientCount: Number(r.recipient_count),
        status: r.status === 'sent' ? 'sent' : 'failed',
        errorCode: r.last_code,
        serverReply: r.last_reply,
      }));
    },
  };
}

export type SentLogRepository = ReturnType<typeof createSentLogRepository>;
