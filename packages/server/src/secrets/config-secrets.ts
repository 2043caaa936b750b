/**
 * Secret fields and "an omitted secret keeps the stored one" live in core (`@org/core/config`,
 * `config/secrets.ts`); the server stores the public part as JSON and each secret as its own envelope
 * (S1). What stays here is naming changed fields for the audit log.
 */
export {
  mergeSecrets,
  planSecretUpdate,
  SECRET_PATHS,
  type SecretPath,
  splitSecrets,
} from '@org/core/config';

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted paths of every leaf, for naming changed fields in the audit log (values are never kept). */
export function leafPaths(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [p, h] of leafPaths(v, prefix ? `${prefix}.${k}` : k)) out.set(p, h);
    }
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value) ?? 'undefined');
  }
  return out;
}

/** Paths whose value differs between two configs. */
export function changedPaths(before: unknown, after: unknown): string[] {
  const a = leafPaths(before);
  const b = leafPaths(after);
  const changed = new Set<string>();
  for (const [p, v] of b) if (a.get(p) !== v) changed.add(p);
  for (const p of a.keys()) if (!b.has(p)) changed.add(p);
  return [...changed].sort();
}
