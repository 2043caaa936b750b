import { hash as digest, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Relay device passwords are generated, never chosen: 192 random bits, 32 base64url characters
 * (short enough for the password fields of printers and scanners, most of which take 32–64).
 * Like API keys they are stored as SHA-256: a slow KDF protects guessable human passwords, while a
 * random 192-bit secret cannot be brute-forced from its hash — and a fast check keeps the printer
 * pattern (one AUTH per message) cheap.
 */
export function generateDevicePassword(): { password: string; hash: string } {
  const password = randomBytes(24).toString('base64url');
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
