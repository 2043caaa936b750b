import type { Kysely, Migration } from 'kysely';

/**
 * "Last test" says which check ran, and keeps an earlier failure of another check until that check
 * passes again, so a later success (e.g. a token test) never hides a failed test send silently.
 */
export const webadminLastTest: Migration = {
  async up(db: Kysely<unknown>) {
    for (const column of [
      'last_test_check',
      'last_failure_check',
      'last_failure_at',
      'last_failure_message',
    ] as const)
      await db.schema.alterTable('email_servers').addColumn(column, 'text').execute();
  },
};
