import type { AuditEntry } from '@org/core/api';
import type { Kysely } from 'kysely';
import { createSortableIds } from './ids.js';
import type { Database } from './schema.js';

export type { AuditEntry };

/** A record to append; the repository sets id and time (S14: field names only, never values). */
export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'target' | 'fields' | 'address'> & {
  target?: string | null;
  fields?: string[];
  address?: string | null;
};

export function createAuditRepository(db: Kysely<Database>) {
  const nextId = createSortableIds();
  return {
    /** `executor`: a transaction, when the record must stand or fall with the change it records. */
    async append(entry: NewAuditEntry, at: Date, executor: Kysely<Database> = db): Promise<string> {
      const id = nextId(at);
      await executor
        .insertInto('audit_log')
        .values({
          id,
          at: at.toISOString(),
          actor: entry.actor,
          action: entry.action,
          target: entry.target ?? null,
          fields_json: JSON.stringify(entry.fields ?? []),
          outcome: entry.outcome,
          address: entry.address ?? null,
          count: null,
        })
        .execute();
      return id;
    },
    /** Adds denials to an aggregated record. */
    async addCount(id: string, extra: number): Promise<void> {
      await db
        .updateTable('audit_log')
        .set((eb) => ({ count: eb(eb.fn.coalesce('count', eb.lit(1)), '+', extra) }))
        .where('id', '=', id)
        .execute();
    },
    /** Retention: removes records older than `before`; returns how many. */
    async deleteBefore(before: Date): Promise<number> {
      const r = await db.deleteFrom('audit_log').where('at', '<', before.toISOString()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Newest first; `before` is an id from a previous page. */
    async list(options: {
      limit: number;
      before?: string | undefined;
      actor?: string | undefined;
      action?: string | undefined;
      target?: string | undefined;
    }): Promise<AuditEntry[]> {
      let q = db.selectFrom('audit_log').selectAll();
      if (options.before) q = q.where('id', '<', options.before);
      if (options.actor) q = q.where('actor', '=', options.actor);
      if (options.action) q = q.where('action', '=', options.action);
      if (options.target) q = q.where('target', '=', options.target);
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
        ...(r.count !== null && r.count !== 1 ? { count: Number(r.count) } : {}),
      }));
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
