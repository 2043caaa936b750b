import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { ServerError } from '../errors.js';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';
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
    sqliteFile = join(options.dataDir, SQLITE_FILE_NAME);
    ownerOnly(options.dataDir, sqliteFile, logger);
    const sqlite = new SQLite(sqliteFile);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // WAL + NORMAL: commits no longer wait for an fsync each (the database stays consistent; a power
    // cut may lose the last commits). Every sent-log row would otherwise cost a disk flush.
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  try {
    await migrate(db);
  } catch (error) {
    if (owned) await db.destroy();
    throw 'databaseUrl' in options ? (unreachable(options.databaseUrl, error) ?? error) : error;
  }
  return {
    db,
    ...(sqliteFile ? { sqliteFile } : {}),
    async close() {
      if (owned) await db.destroy();
    },
  };
}

/**
 * The data directory 0700 and the database 0600, also when they already existed with wider modes
 * (warned and fixed). SQLite gives its -wal and -shm files the database file's mode, so creating the
 * file 0600 before SQLite opens it covers them too.
 */
function ownerOnly(dataDir: string, file: string, logger?: Logger): void {
  if (process.platform === 'win32') {
    mkdirSync(dataDir, { recursive: true });
    return;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fix = (path: string, mode: number) => {
    const current = statSync(path).mode & 0o777;
    if (current === mode) return;
    chmodSync(path, mode);
    logger?.warn('tightened permissions', { path, from: current.toString(8), to: mode.toString(8) });
  };
  fix(dataDir, 0o700);
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) fix(path, 0o600);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

/** "cannot connect to PostgreSQL at host:port (ECONNREFUSED)" instead of a failed migration. */
function unreachable(databaseUrl: string, error: unknown): ServerError | undefined {
  let node: unknown = error;
  for (let i = 0; i < 5 && node; i++) {
    const e = node as { code?: unknown; errors?: unknown[]; cause?: unknown };
    const code = typeof e.code === 'string' ? e.code : (e.errors?.[0] as { code?: string } | undefined)?.code;
    if (code && NETWORK_CODES.has(code)) {
      let where = 'the configured address';
      try {
        const url = new URL(databaseUrl);
        where = `${url.hostname}:${url.port || '5432'}`;
      } catch {}
      return new ServerError('DATABASE_UNREACHABLE', `cannot connect to PostgreSQL at ${where} (${code})`, {
        hint: 'Check that PostgreSQL is running and DATABASE_URL names the right host and port',
        cause: error,
      });
    }
    node = e.cause;
  }
  return undefined;
}

/** Applies pending migrations; throws with the failing migration's error as `cause`. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    // Each developer owns a number (0002 outbox, 0003 security, …); a database that already ran a
    // higher one must still take up a lower one merged later.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed`, { cause: error });
  }
}
