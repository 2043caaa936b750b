import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.js';
import type { Database } from '../store/schema.js';
import { assertRingCoversStore } from './key-inventory.js';
import { type KeyRing, parseKeyRing } from './keyring.js';

/** A key ring that follows its key file, so a running server takes up a rotated key (S2). */
export interface LiveKeyRing extends KeyRing {
  /** Re-reads the file now if it changed; returns true when the ring changed. */
  reload(): boolean;
}

const fingerprint = (path: string) => {
  const s = statSync(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
};

/**
 * Follows a key file: each read of the ring uses the file's latest valid contents. A file that is
 * missing or does not parse (a half-written edit) keeps the previous ring and is logged once.
 */
export function followKeyFile(path: string, initial: KeyRing, logger?: Logger): LiveKeyRing {
  let ring = initial;
  let seen = fingerprint(path);
  let failing = false;
  const reload = (): boolean => {
    try {
      const now = fingerprint(path);
      if (now === seen) return false;
      const next = parseKeyRing(readFileSync(path, 'utf8'));
      seen = now;
      failing = false;
      const changed = next.primary.id !== ring.primary.id || next.ids.join() !== ring.ids.join();
      ring = next;
      if (changed) logger?.info('key file reloaded', { primaryKeyId: ring.primary.id, keyIds: ring.ids });
      return changed;
    } catch (error) {
      if (!failing)
        logger?.warn('key file unreadable; keeping the loaded keys', {
          errorCode: (error as { code?: string }).code,
        });
      failing = true;
      return false;
    }
  };
  return {
    get primary() {
      return ring.primary;
    },
    get ids() {
      return ring.ids;
    },
    get: (id) => ring.get(id),
    reload,
  };
}

/** How long an instance's last report counts as "running". @default 30 s */
export const INSTANCE_STALE_MS = 30_000;

/**
 * Reports this process's key ring to the shared database (`key_ring_instances`), at start, after a
 * key-file reload and every `intervalMs`, so `rotate-key` can see what every running instance holds.
 * A stopped instance removes its row; a killed one ages out after {@link INSTANCE_STALE_MS}.
 */
export function startKeyRingReporter(options: {
  db: Kysely<Database>;
  ring: KeyRing & { reload?: () => boolean };
  now: () => Date;
  logger?: Logger;
  /** @default 2000 */
  intervalMs?: number;
}): { stop(): Promise<void>; report(): Promise<void> } {
  const { db, ring, now, logger } = options;
  const instanceId = randomUUID();
  const report = async () => {
    ring.reload?.();
    const row = {
      primary_key_id: ring.primary.id,
      key_ids_json: JSON.stringify(ring.ids),
      seen_at: now().toISOString(),
    };
    await db
      .insertInto('key_ring_instances')
      .values({ instance_id: instanceId, host: hostname(), pid: process.pid, ...row })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet(row))
      .execute();
  };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= report()
      .catch((error: { code?: string }) => logger?.warn('key ring report failed', { errorCode: error.code }))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? 2000);
  timer.unref();
  return {
    report,
    async stop() {
      clearInterval(timer);
      await running;
      await db.deleteFrom('key_ring_instances').where('instance_id', '=', instanceId).execute();
    },
  };
}

/** Running instances (reported within {@link INSTANCE_STALE_MS}) and the keys each holds. */
export async function liveInstances(
  db: Kysely<Database>,
  now: Date,
): Promise<{ instanceId: string; host: string; pid: number; primaryKeyId: string; keyIds: string[] }[]> {
  const since = new Date(now.getTime() - INSTANCE_STALE_MS).toISOString();
  const rows = await db.selectFrom('key_ring_instances').selectAll().where('seen_at', '>=', since).execute();
  return rows.map((r) => ({
    instanceId: r.instance_id,
    host: r.host,
    pid: r.pid,
    primaryKeyId: r.primary_key_id,
    keyIds: JSON.parse(r.key_ids_json) as string[],
  }));
}

/**
 * What a starting server does with its key ring: refuse it when stored envelopes name keys it lacks
 * (`KEYRING_MISSING_KEYS`), follow the key file when there is one, and report the ring to the
 * database for `rotate-key`.
 */
export async function startKeyRing(options: {
  db: Kysely<Database>;
  ring: KeyRing;
  keyFile?: string | undefined;
  now: () => Date;
  logger?: Logger;
  reportIntervalMs?: number;
}): Promise<{ ring: KeyRing; stop(): Promise<void> }> {
  await assertRingCoversStore(
    options.db,
    options.ring,
    options.keyFile ? `the key file ${options.keyFile}` : 'the configured key ring',
  );
  const ring = options.keyFile ? followKeyFile(options.keyFile, options.ring, options.logger) : options.ring;
  const reporter = startKeyRingReporter({
    db: options.db,
    ring,
    now: options.now,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.reportIntervalMs ? { intervalMs: options.reportIntervalMs } : {}),
  });
  await reporter.report();
  return { ring, stop: () => reporter.stop() };
}
