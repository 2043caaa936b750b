import type { Kysely, Migration } from 'kysely';

// Denied requests are aggregated per source and route per interval (issue 13 §7): one row carries how
// many denials it stands for. NULL means 1 (rows written before aggregation existed).
export const securityAuditCount: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('audit_log').addColumn('count', 'integer').execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('audit_log_at').ifExists().execute();
    await db.schema.alterTable('audit_log').dropColumn('count').execute();
  },
};
