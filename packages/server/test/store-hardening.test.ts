import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../src/store/db.js';
import { createCapturingLogger } from './helpers/harness.js';

// Regression (issue 13 §8): the SQLite file and its WAL were world-readable under a default umask, an
// existing data directory kept its mode, and a refused PostgreSQL connection read "Database migration
// unknown failed".

const mode = (path: string) => statSync(path).mode & 0o777;

it('SQLite: data directory 0700 and database, WAL and SHM 0600, also when they existed (warned and fixed)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-perm-'));
  try {
    const dataDir = join(dir, 'data');
    const fresh = await openStore({ dataDir });
    await fresh.db
      .insertInto('login_throttle')
      .values({ key: 'k', failures: 1, window_started_at: 'x', locked_until: null })
      .execute();
    expect(mode(dataDir)).toBe(0o700);
    for (const suffix of ['', '-wal', '-shm'])
      expect(mode(join(dataDir, SQLITE_FILE_NAME + suffix))).toBe(0o600);
    await fresh.close();

    // An existing directory and file with wide modes.
    const old = join(dir, 'old');
    const logger = createCapturingLogger();
    mkdirSync(old, { mode: 0o755 });
    chmodSync(old, 0o755);
    writeFileSync(join(old, SQLITE_FILE_NAME), '');
    chmodSync(join(old, SQLITE_FILE_NAME), 0o644);
    const reopened = await openStore({ dataDir: old }, logger);
    await reopened.close();
    expect(mode(old)).toBe(0o700);
    expect(mode(join(old, SQLITE_FILE_NAME))).toBe(0o600);
    expect(logger.lines.filter((l) => l.includes('tightened permissions'))).toHaveLength(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a refused PostgreSQL connection names host, port and the reason', async () => {
  await expect(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' })).rejects.toMatchObject({
    code: 'DATABASE_UNREACHABLE',
    message: 'cannot connect to PostgreSQL at 127.0.0.1:1 (ECONNREFUSED)',
  });
});
