import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ServerError } from '../errors.js';

/** A key-encryption key (KEK). */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Keys that unwrap data keys. The first (`primary`) encrypts; every key decrypts, so a new key can be
 * put in front while old records stay readable until `rotate-key` re-encrypts them (S2).
 */
export interface KeyRing {
  readonly primary: Kek;
  get(id: string): Kek | undefined;
  readonly ids: readonly string[];
}

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Builds a key ring; the first key encrypts. */
export function createKeyRing(keys: readonly Kek[]): KeyRing {
  const first = keys[0];
  if (!first) throw new ServerError('KEYRING_EMPTY', 'No encryption key configured', { hint: keyHint });
  const byId = new Map<string, Kek>();
  for (const k of keys) {
    if (!KEY_ID.test(k.id)) {
      throw new ServerError('KEYRING_INVALID', `Key id "${k.id.slice(0, 64)}" is not [A-Za-z0-9_-]{1,64}`, {
        hint: keyHint,
      });
    }
    if (k.key.length !== 32) {
      throw new ServerError('KEYRING_INVALID', `Key "${k.id}" must be 32 bytes (base64 of 32 random bytes)`, {
        hint: keyHint,
      });
    }
    if (byId.has(k.id))
      throw new ServerError('KEYRING_INVALID', `Key id "${k.id}" appears twice`, { hint: keyHint });
    byId.set(k.id, k);
  }
  return { primary: first, get: (id) => byId.get(id), ids: [...byId.keys()] };
}

const keyHint =
  'Set SMTP_OAUTH_KEYS to a comma-separated list of id:base64key (32 random bytes each, e.g. `openssl rand -base64 32`); the first key encrypts.';

/** Parses `id:base64key,id2:base64key2`. Never echoes key material in errors. */
export function parseKeyRing(spec: string): KeyRing {
  const keys: Kek[] = [];
  for (const part of spec
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = part.indexOf(':');
    if (colon <= 0)
      throw new ServerError('KEYRING_INVALID', 'Each key must be written as id:base64key', { hint: keyHint });
    keys.push({ id: part.slice(0, colon), key: Buffer.from(part.slice(colon + 1), 'base64') });
  }
  return createKeyRing(keys);
}

/** Serialises a key list in the same format `parseKeyRing` reads. */
export function formatKeys(keys: readonly Kek[]): string {
  return `${keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join('\n')}\n`;
}

/** A fresh random KEK; the id carries the creation date so operators can tell keys apart. */
export function generateKek(now: Date): Kek {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return { id: `k${stamp}${randomBytes(2).toString('hex')}`, key: randomBytes(32) };
}

/**
 * Reads the key file, or creates it (mode 0600) with one new key. Refuses a file others can read: a
 * KEK readable by other users defeats encryption at rest.
 */
export function loadOrCreateKeyFile(
  path: string,
  now: Date,
  options: { create?: boolean } = {},
): { ring: KeyRing; created: boolean } {
  if (!existsSync(path)) {
    if (options.create === false)
      throw new ServerError('KEYFILE_MISSING', `Key file ${path} does not exist`, { hint: keyHint });
    writeFileSync(path, formatKeys([generateKek(now)]), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return { ring: parseKeyRing(readFileSync(path, 'utf8')), created: true };
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    throw new ServerError(
      'KEYFILE_PERMISSIONS',
      `Key file ${path} is readable by other users (mode ${mode.toString(8)})`,
      {
        hint: `Run: chmod 600 ${path}`,
      },
    );
  }
  return { ring: parseKeyRing(readFileSync(path, 'utf8')), created: false };
}

// Write-then-rename: a running server that re-reads the file never sees half of it.
function writeKeyFileAtomically(path: string, keys: readonly Kek[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, formatKeys(keys), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Puts a new key in front of the key file (it becomes the encrypting key); old keys keep decrypting. */
export function prependKeyToFile(path: string, kek: Kek): KeyRing {
  const current = parseKeyRing(readFileSync(path, 'utf8'));
  const keys = [kek, ...current.ids.map((id) => current.get(id)!)];
  writeKeyFileAtomically(path, keys);
  return createKeyRing(keys);
}

/**
 * Rewrites the key file with the primary key only. Call only through `rotateKeys`, which first checks
 * that no stored envelope and no running instance still needs an old key.
 */
export function pruneKeyFile(path: string): KeyRing {
  const current = parseKeyRing(readFileSync(path, 'utf8'));
  writeKeyFileAtomically(path, [current.primary]);
  return createKeyRing([current.primary]);
}
