/**
 * Normalizes a certificate thumbprint for comparison: strips colons and white space, upper-cases
 * (Entra shows upper-case hex without separators; admins paste with colons from openssl or Windows).
 * Browser-safe: the admin UI compares a typed thumbprint with a file's before saving.
 *
 * @example normalizeThumbprint('ab:cd ef') // → 'ABCDEF'
 */
export function normalizeThumbprint(value: string): string {
  return value.replace(/[\s:]/g, '').toUpperCase();
}
