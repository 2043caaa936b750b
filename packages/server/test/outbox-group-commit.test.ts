import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { outboxDriverFor } from '../src/outbox/index.js';
import { groupCommits } from '../src/outbox/group-commit.js';
import type { AttemptOutcome, NewOutboxRow } from '../src/outbox/driver.js';
import { openStore, type Store } from '../src/store/db.js';
import { withStatementCache } from '../src/store/statement-cache.js';
import { describeDrivers, type TestStore } from './helpers/drivers.js';

const at = new Date('2026-01-01T00:00:00Z');
const row = (i: number): NewOutboxRow => ({
  created_at: at.toISOString(),
  updated_at: at.toISOString(),
  entry_id: null,
  source_kind: 'admin',
  source_id: 'test',
  idempotency_key: null,
  payload_hash: null,
  message_id: `<m${i}@test.invalid>`,
  content_kind: 'message',
  content: '{}',
  envelope_json: null,
  recipient_count: 1,
  status: 'queued',
  attempts: 0,
  next_attempt_at: at.toISOString(),
  expires_at: new Date(at.getTime() + 86_400_000).toISOString(),
  lease_owner: null,
  lease_expires_at: null,
  transmitting: 0,
  last_code: null,
  last_hint: null,
  last_reply: null,
  accepted_json: null,
  rejected_json: null,
  finished_at: null,
});
const sent: AttemptOutcome = {
  status: 'sent',
  code: null,
  hint: null,
  reply: '250 OK',
  attempt: { at: at.toISOString(), outcome: 'sent', code: null, reply: '250 OK', durationMs: 1 },
};

describeDrivers('outbox group commit', (driverOf) => {
  let test: TestStore | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await test?.cleanup();
    store = undefined;
    test = undefined;
  });

  it('marks and attempt records asked for in one turn: one statement / one transaction, each caller its own answer', async () => {
    test = await driverOf.freshStore();
    store = await openStore(test.options);
    const plain = outboxDriverFor(store.db);
    const calls = { mark: 0, finish: 0 };
    const driver = groupCommits({
      ...plain,
      markTransmittingMany: (ids, owner) => {
        calls.mark++;
        return plain.markTransmittingMany(ids, owner);
      },
      finishMany: (items) => {
        calls.finish++;
        return plain.finishMany(items);
      },
    });
    for (let i = 0; i < 4; i++) await plain.insert(row(i), at);
    const claimed = await plain.claim({ owner: 'me', now: at, leaseMs: 60_000, limit: 3 });
    expect(claimed).toHaveLength(3);
    const other = (await plain.claim({ owner: 'other', now: at, leaseMs: 60_000, limit: 1 }))[0]!;

    // Another owner's row is not marked by this owner's batch.
    const marks = await Promise.all([
      ...claimed.map((r) => driver.markTransmitting(r.id, 'me')),
      driver.markTransmitting(other.id, 'me'),
    ]);
    expect(marks).toEqual([true, true, true, false]);
    expect(calls.mark).toBe(1);
    for (const r of claimed) expect((await plain.getRow(r.id))?.transmitting).toBe(1);

    const done = await Promise.all([
      ...claimed.map((r) => driver.finish(r.id, 'me', sent, at)),
      driver.finish(other.id, 'me', sent, at),
    ]);
    expect(done).toEqual([true, true, true, false]);
    expect(calls.finish).toBe(1);
    for (const r of claimed) {
      expect((await plain.getRow(r.id))?.status).toBe('sent');
      expect(await plain.attempts(r.id)).toHaveLength(1);
    }
    expect((await plain.getRow(other.id))?.status).toBe('sending');
  });
});

it('kept SQLite statements: one per SQL text, re-prepared by SQLite after a schema change, the oldest dropped beyond the size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smtp-oauth-statements-'));
  const raw = new SQLite(join(dir, 'db.sqlite'));
  try {
    const db = withStatementCache(raw, 2);
    db.prepare('CREATE TABLE t (a INTEGER)').run();
    db.prepare('INSERT INTO t (a) VALUES (1)').run();
    const select = db.prepare('SELECT * FROM t');
    expect(db.prepare('SELECT * FROM t')).toBe(select);
    expect(select.all()).toEqual([{ a: 1 }]);
    db.prepare('ALTER TABLE t ADD COLUMN b TEXT').run();
    expect(db.prepare('SELECT * FROM t').all()).toEqual([{ a: 1, b: null }]);
    db.prepare('SELECT a FROM t').all();
    db.prepare('SELECT b FROM t').all();
    expect(db.prepare('SELECT * FROM t')).not.toBe(select);
  } finally {
    raw.close();
    await rm(dir, { recursive: true, force: true });
  }
});
