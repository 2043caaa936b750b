import { hash as digest, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Relay device passwords are generated, never chosen: 192 random bits, 32 base64url characters
 * (short enough for the password fields of printers and scanners, most of which take 32–64).
 * Like API keys they are stored as SHA-256: a slow KDF protects guessable human passwords, while a
 * random 190-bit secret cannot be brute-forced from its hash — and a fast check keeps the printer
 * pattern (one AUTH per message) cheap.
 */
const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PASSWORD_LENGTH = 32;

export function generateDevicePassword(): { password: string; hash: string } {
  // Letters and digits only (32 of 62 symbols, about 190 bits): a device's web form or a command
  // line takes it as it is. Regression: base64url passwords could start with "-", which swaks and
  // other CLI clients read as an option.
  let password = '';
  while (password.length < PASSWORD_LENGTH)
    // 248 = 4 × 62: bytes above it are dropped, so every symbol is equally likely.
    for (const byte of randomBytes(48))
      if (byte < 248 && password.length < PASSWORD_LENGTH) password += PASSWORD_ALPHABET[byte % 62];
  return { password, hash: hashDevicePassword(password) };
}

export function hashDevicePassword(password: string): string {
  return digest('sha256', password, 'base64url');
}

/** Constant-time comparison of a presented password with a stored hash. */
export function devicePasswordMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashDevicePassword(presented));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A user name from a device name: `Printer 2nd floor` → `printer-2nd-floor` (AUTH-safe characters). */
export function usernameFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // the accents NFKD split off: "Büro" → "buro", not "bu-ro"
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return slug || 'device';
}
