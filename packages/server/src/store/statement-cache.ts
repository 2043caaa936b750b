import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 with its prepared statements kept, by SQL text: Kysely's SQLite driver prepares
 * every query anew, which cost ~0.3 ms of main-thread CPU per delivered message (six statements) in
 * the outbox benchmark. A statement is only ever used by one query at a time: Kysely runs the one
 * connection's queries one after another (its connection mutex), and a statement finishes (`all`,
 * `run`) before the next query starts. SQLite re-prepares a kept statement by itself after a schema
 * change. The least recently used are dropped beyond `size`.
 */
export function withStatementCache<D extends SqliteDatabase>(database: D, size = 256): D {
  const kept = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let statement = kept.get(sql);
    if (statement) {
      kept.delete(sql);
    } else {
      statement = database.prepare(sql);
      if (kept.size >= size) kept.delete(kept.keys().next().value as string);
    }
    kept.set(sql, statement);
    return statement;
  };
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
