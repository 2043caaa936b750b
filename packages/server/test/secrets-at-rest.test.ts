import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { loadEmailServerConfig } from '../src/email-servers.js';
import { reencryptAll } from '../src/rotate.js';
import { decryptSecret } from '../src/secrets/envelope.js';
import { createKeyRing } from '../src/secrets/keyring.js';
import { openStore } from '../src/store/db.js';
import { createEmailServersRepository } from '../src/store/email-servers-repository.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, json, secretEntry, startHarness, testKeyRing } from './helpers/harness.js';

const CANARY = 'CANARY-s3cr3t-7f1c2a9e-d00d';

describeDrivers('secrets at rest', (driver) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('S1: the canary secret is not in the database (raw file bytes on SQLite, every column on PostgreSQL)', async () => {
    h = await startHarness(driver);
    await h.login();
    const res = await h.api('/api/email-servers', { body: secretEntry({ secret: CANARY }) });
    expect(res.status).toBe(201);
    const rows = await sql<Record<string, unknown>>`select * from email_servers`.execute(
      h.server.context.store.db,
    );
    expect(JSON.stringify(rows.rows)).not.toContain(CANARY);
    expect(JSON.stringify(rows.rows)).not.toContain(Buffer.from(CANARY).toString('base64').slice(0, 20));
    if (h.store.sqliteFile) {
      // WAL mode: checkpoint so the file holds everything, then grep file and WAL.
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(h.server.context.store.db);
      for (const file of [h.store.sqliteFile, `${h.store.sqliteFile}-wal`]) {
        const bytes = await readFile(file).catch(() => Buffer.alloc(0));
        expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
      }
    }
    // And the stored secret is still usable by the server.
    const { emailServer } = await json(res);
    const config = await loadEmailServerConfig(h.server.context, emailServer.id);
    expect(
      config?.auth.type === 'oauth2' &&
        config.auth.credential.kind === 'secret' &&
        config.auth.credential.secret,
    ).toBe(CANARY);
  });

  it('S1: ciphertext moved from record A to record B → decrypt error, not an empty value', async () => {
    h = await startHarness(driver);
    await h.login();
    const a = (
      await json(await h.api('/api/email-servers', { body: secretEntry({ name: 'A', secret: 'secret-A' }) }))
    ).emailServer;
    const b = (
      await json(await h.api('/api/email-servers', { body: secretEntry({ name: 'B', secret: 'secret-B' }) }))
    ).emailServer;
    const db = h.server.context.store.db;
    const rowA = await db
      .selectFrom('email_servers')
      .select('secrets_json')
      .where('id', '=', a.id)
      .executeTakeFirstOrThrow();
    await db
      .updateTable('email_servers')
      .set({ secrets_json: rowA.secrets_json })
      .where('id', '=', b.id)
      .execute();
    await expect(loadEmailServerConfig(h.server.context, b.id)).rejects.toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
    });
    // A's own ciphertext still decrypts to A's secret.
    await expect(loadEmailServerConfig(h.server.context, a.id)).resolves.toMatchObject({
      auth: { credential: { kind: 'secret', secret: 'secret-A' } },
    });
    // An update that keeps the (moved) secret must fail loudly too, never store an empty secret.
    const { auth, ...rest } = secretEntry({ name: 'B' });
    const { credential: _c, ...authRest } = auth;
    const upd = await h.api(`/api/email-servers/${b.id}`, {
      method: 'PUT',
      body: { ...rest, auth: { ...authRest, credential: { kind: 'secret' } } },
    });
    expect(upd.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await json(upd))).not.toContain('secret-A');
  });

  it('S2: write under k1, add k2, restart: readable; re-encrypt, drop k1: readable', async () => {
    const k1 = testKeyRing('k1');
    h = await startHarness(driver, { keyRing: k1, keepStore: true });
    const store = h.store;
    await h.login();
    const created = await json(await h.api('/api/email-servers', { body: secretEntry({ secret: CANARY }) }));
    const id = created.emailServer.id as string;
    await h.close();

    // Restart with k2 in front: old records stay readable, new writes use k2.
    const k2k1 = createKeyRing([{ id: 'k2', key: testKeyRing('k2').primary.key }, k1.primary]);
    h = await startHarness(driver, { store, keyRing: k2k1, keepStore: true });
    expect((await loadEmailServerConfig(h.server.context, id))?.name).toBe('Contoso');
    await h.close();

    // Rotate: everything re-encrypted under k2.
    const offline = await openStore(store.options);
    try {
      expect(await reencryptAll(offline, k2k1)).toEqual({ reencrypted: 1, unchanged: 0 });
      expect(await reencryptAll(offline, k2k1)).toEqual({ reencrypted: 0, unchanged: 1 });
    } finally {
      await offline.close();
    }

    // Drop k1: still readable.
    const k2only = createKeyRing([k2k1.primary]);
    h = await startHarness(driver, { store, keyRing: k2only, keepStore: true });
    const config = await loadEmailServerConfig(h.server.context, id);
    expect(
      config?.auth.type === 'oauth2' &&
        config.auth.credential.kind === 'secret' &&
        config.auth.credential.secret,
    ).toBe(CANARY);
    await h.close();

    // Without the right key: the server refuses to start (issue 13 §3), and a decrypt is an error,
    // never an empty secret.
    h = undefined;
    await expect(startHarness(driver, { store, keyRing: k1, keepStore: true })).rejects.toMatchObject({
      code: 'KEYRING_MISSING_KEYS',
    });
    const raw = await openStore(store.options);
    try {
      const record = await createEmailServersRepository(raw.db).get(id);
      const field = 'auth.credential.secret';
      expect(() =>
        decryptSecret(k1, record!.secrets[field]!, { table: 'email_servers', recordId: id, field }),
      ).toThrowError(expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }));
    } finally {
      await raw.close();
      await store.cleanup();
    }
  });
});
