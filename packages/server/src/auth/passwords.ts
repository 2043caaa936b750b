import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters; stored with each hash. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP-equivalent scrypt profile (N=2^15, r=8, p=3): ~32 MiB per hash. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 3 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scrypt(
  password: string,
  salt: Buffer,
  keyLength: number,
  params: { N: number; r: number; p: number },
) {
  return new Promise<Buffer>((resolve, reject) => {
    scryptCb(
      password.normalize('NFC'),
      salt,
      keyLength,
      { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** Hashes a password; the parameters are stored with the hash so they can be raised later. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, KEY_LENGTH, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Constant-time check; a malformed stored hash is a mismatch, not an exception. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of nothing in particular: verifying against it for unknown accounts costs the same time as
 * for real ones, so response timing does not reveal which admin emails exist (S13).
 */
export function createDummyHash(params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  return hashPassword(randomBytes(16).toString('base64'), params);
}

/** A readable one-time password for first start (≈ 120 bits). */
export function generatePassword(): string {
  return randomBytes(15)
    .toString('base64url')
    .match(/.{1,5}/g)!
    .join('-');
}
