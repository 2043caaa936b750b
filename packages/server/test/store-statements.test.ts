import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';

// The SQLite store reuses prepared statements by their text (store/db.ts): a reused statement must
// see schema changes and fresh parameters, and eviction past the cache's size must not break reuse.

it('SQLite: reused statements see new parameters, schema changes, and survive eviction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-stmt-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  try {
    const { db } = store;
    await sql`CREATE TABLE t (id integer primary key, name text)`.execute(db);
    for (let i = 0; i < 3; i++) await sql`INSERT INTO t (id, name) VALUES (${i}, ${`n${i}`})`.execute(db);
    const byId = (id: number) =>
      sql<{ id: number; name: string }>`SELECT * FROM t WHERE id = ${id}`.execute(db);
    expect((await byId(1)).rows).toEqual([{ id: 1, name: 'n1' }]);
    expect((await byId(2)).rows).toEqual([{ id: 2, name: 'n2' }]);

    // The cached `SELECT *` after a column was added returns the new column too.
    await sql`ALTER TABLE t ADD COLUMN extra text`.execute(db);
    expect((await byId(1)).rows).toEqual([{ id: 1, name: 'n1', extra: null }]);

    // More distinct statements than the cache holds, then the first shapes again.
    for (let i = 0; i < 300; i++) await sql.raw(`SELECT ${i} AS v`).execute(db);
    expect((await byId(0)).rows).toEqual([{ id: 0, name: 'n0', extra: null }]);
    expect(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(db)).rows[0]?.n)).toBe(3);

    // A failed statement (constraint) leaves the cached one usable.
    await expect(sql`INSERT INTO t (id, name) VALUES (${1}, ${'dup'})`.execute(db)).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    await sql`INSERT INTO t (id, name) VALUES (${9}, ${'n9'})`.execute(db);
    expect((await byId(9)).rows).toEqual([{ id: 9, name: 'n9', extra: null }]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
