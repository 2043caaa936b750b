import type { Kysely } from 'kysely';
import { createSortableIds } from './ids.js';
import type { Database } from './schema.js';

/** One audit record. `fields` names what changed — never values (S14). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  fields: string[];
  outcome: 'ok' | 'denied' | 'failed';
  address: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'target' | 'fields' | 'address'> & {
  target?: string | null;
  fields?: string[];
  address?: string | null;
};

export function createAuditRepository(db: Kysely<Database>) {
  const nextId = createSortableIds();
  return {
    async append(entry: NewAuditEntry, at: Date): Promise<void> {
      await db
        .insertInto('audit_log')
        .values({
          id: nextId(at),
          at: at.toISOString(),
          actor: entry.actor,
          action: entry.action,
          target: entry.target ?? null,
          fields_json: JSON.stringify(entry.fields ?? []),
          outcome: entry.outcome,
          address: entry.address ?? null,
        })
        .execute();
    },
    /** Newest first; `before` is an id from a previous page. */
    async list(options: { limit: number; before?: string | undefined }): Promise<AuditEntry[]> {
      let q = db.selectFrom('audit_log').selectAll();
      if (options.before) q = q.where('id', '<', options.before);
      const rows = await q.orderBy('id', 'desc').limit(options.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        fields: JSON.parse(r.fields_json) as string[],
        outcome: r.outcome as AuditEntry['outcome'],
        address: r.address,
      }));
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
