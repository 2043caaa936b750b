import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, it } from 'vitest';
import type { StoreOptions } from '../../src/store/db.js';

/** A fresh, empty database for one server (or one sequence of servers sharing state). */
export interface TestStore {
  options: StoreOptions;
  /** The SQLite file, for raw-bytes checks. */
  sqliteFile?: string;
  /** Runs raw SQL against the same database (PostgreSQL) — for tamper tests. */
  cleanup(): Promise<void>;
}

export interface Driver {
  name: 'sqlite' | 'postgres';
  freshStore(): Promise<TestStore>;
}

const sqlite: Driver = {
  name: 'sqlite',
  async freshStore() {
    const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-server-test-'));
    return {
      options: { dataDir },
      sqliteFile: join(dataDir, 'smtp-oauth.sqlite'),
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
};

function postgres(adminUrl: string): Driver {
  return {
    name: 'postgres',
    async freshStore() {
      // One database per store: parallel test files and parallel CI runs never share tables.
      const name = `smtp_oauth_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        options: { databaseUrl: url.toString() },
        async cleanup() {
          const c = new pg.Client({ connectionString: adminUrl });
          await c.connect();
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  };
}

/** A fresh PostgreSQL database (its own name) on the server at `adminUrl`. */
export const freshPostgresStore = (adminUrl: string): Promise<TestStore> => postgres(adminUrl).freshStore();

const pgUrl = process.env.TEST_DATABASE_URL;
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Runs the same suite against every storage driver (unstorage's testDriver pattern). PostgreSQL
 * needs TEST_DATABASE_URL (`eval "$(scripts/test-postgres.sh start)"`); in CI its absence fails the
 * run instead of silently skipping half the suite.
 */
export function describeDrivers(title: string, suite: (driver: Driver) => void): void {
  describe(`${title} [sqlite]`, () => suite(sqlite));
  if (pgUrl) {
    describe(`${title} [postgres]`, () => suite(postgres(pgUrl)));
  } else if (inCi) {
    describe(`${title} [postgres]`, () => {
      it('needs TEST_DATABASE_URL in CI', () => {
        throw new Error(
          'TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI (scripts/test-postgres.sh start)',
        );
      });
    });
  } else {
    describe.skip(`${title} [postgres] (set TEST_DATABASE_URL to run)`, () => suite(postgres('')));
  }
}
