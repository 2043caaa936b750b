import { expectString } from '../internal/guard.js';

/**
 * Normalizes a certificate thumbprint for comparison: strips colons and white space, upper-cases
 * (Entra shows upper-case hex without separators; admins paste with colons from openssl or Windows).
 * Browser-safe: the admin UI compares a typed thumbprint with a file's before saving.
 *
 * @example normalizeThumbprint('ab:cd ef') // → 'ABCDEF'
 */
export function normalizeThumbprint(value: string): string {
  // Plain-JS callers get a typed error naming the argument, not a TypeError from .replace.
  expectString(value, 'thumbprint', 'CREDENTIAL_INVALID');
  return value.replace(/[\s:]/g, '').toUpperCase();
}
