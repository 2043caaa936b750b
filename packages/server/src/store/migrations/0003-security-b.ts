import type { Kysely, Migration } from 'kysely';

// An API key's binding (issue 13 §4): the entries it may send through and, optionally, the From
// addresses or domains and source IP ranges it may use. JSON text; NULL for keys made before bindings
// existed (they keep sending through any entry until an admin binds them).
export const securityApiKeyScope: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('api_keys').addColumn('scope_json', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('api_keys').dropColumn('scope_json').execute();
  },
};
