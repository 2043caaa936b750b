import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import type { Logger } from '../logger.js';

/** Where the server keeps its state. */
export type StoreOptions =
  | { /** PostgreSQL connection string (`postgres://…`). */ databaseUrl: string }
  | { /** Directory for the embedded SQLite file; created if missing. */ dataDir: string }
  | {
      /** A ready Kysely instance (caller owns its lifetime unless `owned`). */ kysely: Kysely<Database>;
      owned?: boolean;
    };

export interface Store {
  readonly db: Kysely<Database>;
  /** Absolute path of the SQLite file, when the embedded store is used. */
  readonly sqliteFile?: string;
  close(): Promise<void>;
}

export const SQLITE_FILE_NAME = 'smtp-oauth.sqlite';

/** Opens (and creates on first use) the database and brings its schema up to date. */
export async function openStore(options: StoreOptions, logger?: Logger): Promise<Store> {
  let db: Kysely<Database>;
  let sqliteFile: string | undefined;
  let owned = true;
  if ('kysely' in options) {
    db = options.kysely;
    owned = options.owned ?? false;
  } else if ('databaseUrl' in options) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle client losing its connection (server restart, admin termination) must not crash the
    // process; the pool replaces it on next use.
    pool.on('error', (error: Error & { code?: string }) => {
      logger?.warn('database connection lost', { errorCode: error.code });
    });
    // A checked-out client between statements (inside a transaction) has no listener of the pool's;
    // its lost connection must fail that transaction's next statement, not crash the process.
    pool.on('connect', (client) => {
      client.on('error', (error: Error & { code?: string }) => {
        logger?.warn('database connection lost', { errorCode: error.code });
      });
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    sqliteFile = join(options.dataDir, SQLITE_FILE_NAME);
    const sqlite = new SQLite(sqliteFile);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // WAL + NORMAL: commits no longer wait for an fsync each (the database stays consistent; a power
    // cut may lose the last commits). Every sent-log row would otherwise cost a disk flush.
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  try {
    await migrate(db);
  } catch (error) {
    if (owned) await db.destroy();
    throw error;
  }
  return {
    db,
    ...(sqliteFile ? { sqliteFile } : {}),
    async close() {
      if (owned) await db.destroy();
    },
  };
}

/** Applies pending migrations; throws with the failing migration's error as `cause`. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed`, { cause: error });
  }
}
