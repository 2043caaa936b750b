import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001-initial.js';
import { outboxA } from './0002-outbox-a.js';
import { outboxB } from './0002-outbox-b.js';

/** Migrations in order. Names are stable: they are recorded in the database. */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-outbox-a': outboxA,
  '0002-outbox-b': outboxB,
};

/** In-code provider: works the same from `src/` under vitest and from the built `dist/`. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
