import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, envelopeKeyId } from '../src/secrets/envelope.js';
import {
  createKeyRing,
  generateKek,
  loadOrCreateKeyFile,
  parseKeyRing,
  prependKeyToFile,
  pruneKeyFile,
} from '../src/secrets/keyring.js';

const ctx = { table: 'email_servers', recordId: 'rec-a', field: 'auth.credential.secret' };
const ring = (...ids: string[]) => createKeyRing(ids.map((id) => ({ id, key: randomBytes(32) })));

describe('envelope encryption (S1)', () => {
  it('round-trips and never contains the plaintext', () => {
    const r = ring('k1');
    const env = encryptSecret(r, 'canary-0123456789', ctx);
    expect(env).not.toContain('canary');
    expect(env.split('.')).toHaveLength(6);
    expect(decryptSecret(r, env, ctx)).toBe('canary-0123456789');
  });

  it('uses a fresh nonce and data key every time', () => {
    const r = ring('k1');
    const a = encryptSecret(r, 'same', ctx);
    const b = encryptSecret(r, 'same', ctx);
    expect(a).not.toBe(b);
    expect(a.split('.')[4]).not.toBe(b.split('.')[4]);
    expect(Buffer.from(a.split('.')[4]!, 'base64url')).toHaveLength(12);
  });

  it.each([
    ['another record', { ...ctx, recordId: 'rec-b' }],
    ['another field', { ...ctx, field: 'auth.credential.privateKeyPem' }],
    ['another table', { ...ctx, table: 'api_keys' }],
  ])('refuses an envelope moved to %s', (_what, other) => {
    const r = ring('k1');
    const env = encryptSecret(r, 'secret', ctx);
    expect(() => decryptSecret(r, env, other)).toThrowError(
      expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }),
    );
  });

  it('decrypt failures are errors, never empty values', () => {
    const r = ring('k1');
    const env = encryptSecret(r, '', ctx);
    expect(decryptSecret(r, env, ctx)).toBe('');
    const parts = env.split('.');
    const flipped = Buffer.from(parts[5]!, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    parts[5] = flipped.toString('base64url');
    for (const bad of [parts.join('.'), 'garbage', '', 'v1.k1.a.b.c.d']) {
      expect(() => decryptSecret(r, bad, ctx)).toThrowError(
        expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }),
      );
    }
    expect(() => decryptSecret(ring('k1'), env, ctx)).toThrowError(/authentication failed/);
    expect(() => decryptSecret(ring('k9'), env, ctx)).toThrowError(/not in the key ring/);
  });
});

describe('key ring (S2)', () => {
  it('parses id:base64 lists; the first key encrypts, all decrypt', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const old = parseKeyRing(`k1:${k1}`);
    const env = encryptSecret(old, 's', ctx);
    const both = parseKeyRing(`k2:${k2}, k1:${k1}`);
    expect(both.primary.id).toBe('k2');
    expect(decryptSecret(both, env, ctx)).toBe('s');
    expect(envelopeKeyId(encryptSecret(both, 's', ctx))).toBe('k2');
  });

  it('refuses bad keys without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => parseKeyRing(`k1:${short}`)).toThrowError(/32 bytes/);
    try {
      parseKeyRing(`k1:${short}`);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(short);
    }
    expect(() => parseKeyRing('')).toThrowError(expect.objectContaining({ code: 'KEYRING_EMPTY' }));
    expect(() => parseKeyRing('nocolon')).toThrowError(expect.objectContaining({ code: 'KEYRING_INVALID' }));
    const k = randomBytes(32).toString('base64');
    expect(() => parseKeyRing(`a:${k},a:${k}`)).toThrowError(/twice/);
  });

  it('creates a 0600 key file on first use, refuses one others can read, rotates in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtp-oauth-keys-'));
    try {
      const path = join(dir, 'keys');
      const first = loadOrCreateKeyFile(path, new Date());
      expect(first.created).toBe(true);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const again = loadOrCreateKeyFile(path, new Date());
      expect(again.created).toBe(false);
      expect(again.ring.primary.id).toBe(first.ring.primary.id);

      const rotated = prependKeyToFile(path, generateKek(new Date()));
      expect(rotated.ids).toHaveLength(2);
      expect(rotated.ids[1]).toBe(first.ring.primary.id);
      expect(pruneKeyFile(path).ids).toEqual([rotated.primary.id]);

      await writeFile(path, await readFile(path), { mode: 0o644 });
      const { chmod } = await import('node:fs/promises');
      await chmod(path, 0o644);
      expect(() => loadOrCreateKeyFile(path, new Date())).toThrowError(
        expect.objectContaining({ code: 'KEYFILE_PERMISSIONS' }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
