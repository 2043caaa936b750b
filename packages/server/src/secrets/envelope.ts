import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ServerError } from '../errors.js';
import type { KeyRing } from './keyring.js';

/** Where a secret lives. Bound into the ciphertext as associated data, so it cannot be moved. */
export interface SecretContext {
  table: string;
  recordId: string;
  field: string;
}

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function aad(ctx: SecretContext, purpose: 'dek' | 'value'): Buffer {
  // Length-prefixed parts: no two different contexts can serialise to the same bytes.
  const parts = [VERSION, purpose, ctx.table, ctx.recordId, ctx.field];
  return Buffer.from(parts.map((p) => `${Buffer.byteLength(p)}:${p}`).join('|'), 'utf8');
}

function seal(key: Buffer, plaintext: Buffer, ad: Buffer): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(ad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer, ad: Buffer): Buffer {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw new Error('malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(ad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

const b64 = (b: Buffer) => b.toString('base64url');

/**
 * Envelope-encrypts one secret (S1): a fresh 256-bit data key encrypts the value with AES-256-GCM
 * and a random 96-bit nonce; the key ring's primary KEK wraps the data key. Both layers carry the
 * record/field binding as associated data.
 *
 * Format: `v1.<kekId>.<wrapNonce>.<wrappedDek>.<nonce>.<ciphertext>` (base64url parts).
 */
export function encryptSecret(ring: KeyRing, plaintext: string, ctx: SecretContext): string {
  const dek = randomBytes(32);
  try {
    const wrapped = seal(ring.primary.key, dek, aad(ctx, 'dek'));
    const value = seal(dek, Buffer.from(plaintext, 'utf8'), aad(ctx, 'value'));
    return [
      VERSION,
      ring.primary.id,
      b64(wrapped.nonce),
      b64(wrapped.sealed),
      b64(value.nonce),
      b64(value.sealed),
    ].join('.');
  } finally {
    dek.fill(0);
  }
}

/** The id of the KEK that wrapped an envelope (to find records still under an old key). */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split('.');
  return parts[0] === VERSION ? parts[1] : undefined;
}

/**
 * Decrypts an envelope. Any failure — unknown key, tampering, or an envelope copied from another
 * record or field — throws `SECRET_DECRYPT_FAILED`; it never yields an empty value.
 */
export function decryptSecret(ring: KeyRing, envelope: string, ctx: SecretContext): string {
  const fail = (reason: string, cause?: unknown) =>
    new ServerError(
      'SECRET_DECRYPT_FAILED',
      `Cannot decrypt ${ctx.table}.${ctx.field} of ${ctx.recordId}: ${reason}`,
      {
        hint: 'The stored secret was encrypted under a key that is not configured, or was altered. Restore the key (SMTP_OAUTH_KEYS or the key file) or set the secret again.',
        cause,
      },
    );
  const parts = envelope.split('.');
  if (parts.length !== 6 || parts[0] !== VERSION) throw fail('not an envelope');
  const [, kekId, wrapNonce, wrappedDek, nonce, sealed] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const kek = ring.get(kekId);
  if (!kek) throw fail(`key "${kekId}" is not in the key ring`);
  let dek: Buffer | undefined;
  try {
    dek = open(
      kek.key,
      Buffer.from(wrapNonce, 'base64url'),
      Buffer.from(wrappedDek, 'base64url'),
      aad(ctx, 'dek'),
    );
    return open(
      dek,
      Buffer.from(nonce, 'base64url'),
      Buffer.from(sealed, 'base64url'),
      aad(ctx, 'value'),
    ).toString('utf8');
  } catch (error) {
    throw fail('authentication failed', error);
  } finally {
    dek?.fill(0);
  }
}
