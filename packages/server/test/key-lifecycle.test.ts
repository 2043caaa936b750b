import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { loadEmailServerConfig } from '../src/email-servers.js';
import { rotateKeys } from '../src/rotate.js';
import { envelopeKeyId } from '../src/secrets/envelope.js';
import { storedEnvelopeKeyIds } from '../src/secrets/key-inventory.js';
import { loadOrCreateKeyFile, parseKeyRing } from '../src/secrets/keyring.js';
import { createServer } from '../src/server.js';
import { openStore } from '../src/store/db.js';
import { runBin } from './helpers/child-process.js';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, secretEntry, startHarness, testKeyRing } from './helpers/harness.js';

// Regression (issue 13 §3, S1/S2): rotate --generate --prune under a running server left it unable to
// decrypt and sealing new secrets under the pruned key; a missing key file was silently regenerated;
// one undecryptable row made the whole entry list fail.

const BIN = fileURLToPath(new URL('../src/bin/server.ts', import.meta.url));
const CANARY = 'CANARY-rotation-secret-77aa';

describeDrivers('key lifecycle', (driver) => {
  let h: Harness | undefined;
  let keyDir: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function create(body: unknown): Promise<string> {
    const res = await h!.api('/api/email-servers', { body });
    expect(res.status).toBe(201);
    return ((await res.json()) as Json).emailServer.id;
  }
  const secretOf = async (id: string) => {
    const c = await loadEmailServerConfig(h!.server.context, id);
    return c?.auth.type === 'oauth2' && c.auth.credential.kind === 'secret'
      ? c.auth.credential.secret
      : undefined;
  };

  it('rotate-key --generate --prune while the server runs: it takes up the new key first, nothing is lost', async () => {
    keyDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-keys-'));
    const keyFile = join(keyDir, 'keys');
    const { ring } = loadOrCreateKeyFile(keyFile, new Date());
    h = await startHarness(driver, { keyRing: ring, keyFile, keepStore: true });
    await h.login();
    const before = await create(secretEntry({ name: 'before', secret: CANARY }));

    const rotation = await openStore(h.store.options);
    try {
      const result = await rotateKeys(rotation, ring, { keyFile, generate: true, prune: true, pollMs: 100 });
      expect(result).toMatchObject({ reencrypted: 1, pruned: true });
      const newId = result.ring.primary.id;
      expect(newId).not.toBe(ring.primary.id);
      expect((await readFile(keyFile, 'utf8')).trim().split('\n')).toHaveLength(1);
      // The running server decrypts what was re-encrypted, and seals new secrets under the new key.
      expect(await secretOf(before)).toBe(CANARY);
      const after = await create(secretEntry({ name: 'after', secret: 'second~secret' }));
      const record = await h.server.context.repos.emailServers.get(after);
      expect(envelopeKeyId(record!.secrets['auth.credential.secret']!)).toBe(newId);
      expect([...(await storedEnvelopeKeyIds(rotation.db)).keys()]).toEqual([newId]);
    } finally {
      await rotation.close();
    }
    // Restart with the pruned file: everything is readable.
    const store = h.store;
    await h.close();
    h = await startHarness(driver, {
      store,
      keyRing: loadOrCreateKeyFile(keyFile, new Date()).ring,
      keyFile,
    });
    await h.login();
    const list = ((await (await h.api('/api/email-servers')).json()) as Json).emailServers as Json[];
    expect(list.map((e) => e.secretProblem)).toEqual([null, null]);
    expect(await secretOf(list.find((e) => e.name === 'before').id)).toBe(CANARY);
  });

  it('rotation waits for every running instance and refuses when one keeps an old key', async () => {
    keyDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-keys-'));
    const keyFile = join(keyDir, 'keys');
    const { ring } = loadOrCreateKeyFile(keyFile, new Date());
    // This instance holds its keys in SMTP_OAUTH_KEYS-style memory: it never sees the key file change.
    h = await startHarness(driver, { keyRing: ring, keepStore: true });
    await h.login();
    await create(secretEntry({ secret: CANARY }));
    const rotation = await openStore(h.store.options);
    try {
      await expect(
        rotateKeys(rotation, ring, { keyFile, generate: true, prune: true, waitMs: 1500, pollMs: 100 }),
      ).rejects.toMatchObject({
        code: 'KEY_ROTATION_INSTANCES_BEHIND',
        message: expect.stringContaining(`encrypting under "${ring.primary.id}"`),
      });
      // Nothing re-encrypted, nothing pruned: both keys are still in the file.
      expect([...(await storedEnvelopeKeyIds(rotation.db)).keys()]).toEqual([ring.primary.id]);
      expect((await readFile(keyFile, 'utf8')).trim().split('\n')).toHaveLength(2);
    } finally {
      await rotation.close();
    }
  });

  it('refuses to start when stored envelopes name a key missing from the ring, saying which and how to recover', async () => {
    const k1 = testKeyRing('k1');
    h = await startHarness(driver, { keyRing: k1, keepStore: true });
    await h.login();
    await create(secretEntry({ secret: CANARY }));
    const store = h.store;
    await h.close();
    h = undefined;
    try {
      await expect(
        createServer({ store: store.options, keyRing: testKeyRing('k2'), adminUiDir: false }),
      ).rejects.toMatchObject({
        code: 'KEYRING_MISSING_KEYS',
        message: expect.stringContaining('"k1" (1 secret)'),
        hint: expect.stringContaining('Restore the key file'),
      });
    } finally {
      await store.cleanup();
    }
  });

  it('a missing key file with stored secrets is refused, never regenerated (child process)', async () => {
    const k = testKeyRing('k1');
    h = await startHarness(driver, { keyRing: k, keepStore: true });
    await h.login();
    await create(secretEntry({ secret: CANARY }));
    const store = h.store;
    await h.close();
    h = undefined;
    keyDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-keys-'));
    const dataDir = 'dataDir' in store.options ? store.options.dataDir : keyDir;
    const keyFile = join(keyDir, 'missing-keys');
    try {
      const env: Record<string, string> = { PORT: '0', DATA_DIR: dataDir, SMTP_OAUTH_KEY_FILE: keyFile };
      if ('databaseUrl' in store.options) env.DATABASE_URL = store.options.databaseUrl;
      const bin = runBin(BIN, [], env, ['--import', 'tsx']);
      expect(await bin.exited).toBe(1);
      expect(bin.output()).toMatch(
        /Key file .*missing-keys is missing, but stored secrets were encrypted under key "k1"/,
      );
      expect(bin.output()).toMatch(/hint: Restore .* from your backup/);
      expect(existsSync(keyFile)).toBe(false);
    } finally {
      await store.cleanup();
    }
  }, 60_000);

  it('an undecryptable row fails alone: the list works and that entry says "secret unreadable, enter it again"', async () => {
    h = await startHarness(driver);
    await h.login();
    const good = await create(secretEntry({ name: 'good', secret: CANARY }));
    const bad = await create(secretEntry({ name: 'bad', secret: 'lost~secret' }));
    // Corrupt one envelope (as a lost key or a damaged row would leave it).
    const record = (await h.server.context.repos.emailServers.get(bad))!;
    const envelope = record.secrets['auth.credential.secret']!;
    await h.server.context.repos.emailServers.updateSecrets(bad, {
      'auth.credential.secret': `${envelope.slice(0, -4)}AAAA`,
    });
    const list = await h.api('/api/email-servers');
    expect(list.status).toBe(200);
    const entries = ((await list.json()) as Json).emailServers as Json[];
    expect(entries.find((e) => e.id === good).secretProblem).toBeNull();
    expect(entries.find((e) => e.id === bad).secretProblem).toEqual({
      code: 'SECRET_DECRYPT_FAILED',
      message: 'secret unreadable, enter it again',
      fields: ['auth.credential.secret'],
    });
    const one = await h.api(`/api/email-servers/${bad}`);
    expect(one.status).toBe(200);
    const test = await h.api(`/api/email-servers/${bad}/test-token`, { method: 'POST' });
    expect(test.status).toBe(409);
    expect(((await test.json()) as Json).error).toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
      issues: [{ path: 'auth.credential.secret', message: 'secret unreadable, enter it again' }],
    });
    // Entering it again repairs the entry.
    const fixed = await h.api(`/api/email-servers/${bad}`, {
      method: 'PUT',
      body: secretEntry({ name: 'bad', secret: 'entered~again' }),
    });
    expect(fixed.status).toBe(200);
    expect(((await fixed.json()) as Json).emailServer.secretProblem).toBeNull();
    expect(await secretOf(bad)).toBe('entered~again');
    expect(await secretOf(good)).toBe(CANARY);
  });
});

it('a rotation that cannot read an envelope aborts before writing or pruning anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smtp-oauth-prune-'));
  try {
    const keyFile = join(dir, 'keys');
    const { ring: k1 } = loadOrCreateKeyFile(keyFile, new Date());
    const h1 = await startHarness(
      { name: 'sqlite', freshStore: async () => ({ options: { dataDir: dir }, cleanup: async () => {} }) },
      { keyRing: k1 },
    );
    await h1.login();
    await h1.api('/api/email-servers', { body: secretEntry({ secret: CANARY }) });
    await h1.close();
    const store = await openStore({ dataDir: dir });
    try {
      // A ring that cannot read the old envelope: re-encryption aborts, and nothing is pruned.
      const other = parseKeyRing(`k9:${Buffer.alloc(32, 9).toString('base64')}`);
      await expect(rotateKeys(store, other, { keyFile, prune: true })).rejects.toMatchObject({
        code: 'SECRET_DECRYPT_FAILED',
      });
      expect((await readFile(keyFile, 'utf8')).trim().split('\n')).toHaveLength(1);
      expect([...(await storedEnvelopeKeyIds(store.db)).keys()]).toEqual([k1.primary.id]);
    } finally {
      await store.close();
    }
    await unlink(keyFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
