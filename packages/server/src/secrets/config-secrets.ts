/**
 * Which parts of an email-server config are secret, and how to split them out for storage.
 * The public part is stored as JSON; each secret is stored as its own envelope (S1).
 */
export const SECRET_PATHS = [
  'auth.password',
  'auth.credential.secret',
  'auth.credential.privateKeyPem',
  'auth.credential.pfxBase64',
  'auth.credential.passphrase',
] as const;

export type SecretPath = (typeof SECRET_PATHS)[number];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parentOf(root: unknown, path: string): { parent: Obj; key: string } | undefined {
  const parts = path.split('.');
  const key = parts.pop()!;
  let node: unknown = root;
  for (const p of parts) {
    if (!isObj(node)) return undefined;
    node = node[p];
  }
  return isObj(node) ? { parent: node, key } : undefined;
}

/** Removes secret values from a (deep-copied) config; returns both halves. */
export function splitSecrets(config: Obj): {
  publicConfig: Obj;
  secrets: Partial<Record<SecretPath, string>>;
} {
  const publicConfig = structuredClone(config);
  const secrets: Partial<Record<SecretPath, string>> = {};
  for (const path of SECRET_PATHS) {
    const at = parentOf(publicConfig, path);
    if (at && typeof at.parent[at.key] === 'string') {
      secrets[path] = at.parent[at.key] as string;
      delete at.parent[at.key];
    }
  }
  return { publicConfig, secrets };
}

/** Puts secret values back into a (deep-copied) public config. */
export function mergeSecrets(publicConfig: Obj, secrets: Partial<Record<string, string>>): Obj {
  const config = structuredClone(publicConfig);
  for (const [path, value] of Object.entries(secrets)) {
    const at = parentOf(config, path);
    if (at && value !== undefined) at.parent[at.key] = value;
  }
  return config;
}

/** True when `path` exists in `input` with a value (an update that sets this secret). */
export function hasValueAt(input: unknown, path: string): boolean {
  const at = parentOf(input, path);
  return at !== undefined && at.parent[at.key] !== undefined;
}

/**
 * For an update: which stored secrets still apply to the new input. A secret carries over when the
 * input omits it and its container is the same kind (same auth type, same credential kind) —
 * "an update without the secret keeps the stored one" (S3).
 */
export function carriedSecretPaths(
  input: unknown,
  stored: Obj,
  storedSecretPaths: readonly string[],
): string[] {
  const kindOf = (root: unknown, path: string) => {
    const a = parentOf(root, 'auth.type');
    const authType = a ? a.parent.type : undefined;
    if (path === 'auth.password') return authType === 'password' ? 'password' : undefined;
    const c = parentOf(root, 'auth.credential.kind');
    return authType === 'oauth2' && c ? c.parent.kind : undefined;
  };
  return storedSecretPaths.filter((path) => {
    if (hasValueAt(input, path)) return false;
    if (!parentOf(input, path)) return false;
    const kind = kindOf(input, path);
    if (kind === undefined || kind !== kindOf(stored, path)) return false;
    // A key belongs to its certificate and a passphrase to its PFX: a new upload replaces both.
    if (path === 'auth.credential.privateKeyPem')
      return valueAt(input, CERTIFICATE_PEM) === valueAt(stored, CERTIFICATE_PEM);
    if (path === 'auth.credential.passphrase') return !hasValueAt(input, 'auth.credential.pfxBase64');
    return true;
  });
}

const CERTIFICATE_PEM = 'auth.credential.certificatePem';

function valueAt(root: unknown, path: string): unknown {
  const at = parentOf(root, path);
  return at ? at.parent[at.key] : undefined;
}

/**
 * For an update: the stored certificate PEM, filled into an input that omits it while keeping the
 * credential kind `certificate`. The PEM is public, so it is stored with the public config, but it
 * travels with the private key: an edit of another field keeps both, as it keeps a secret (S3).
 * A new upload or another credential kind leaves the input as it is.
 */
export function withStoredCertificate(input: unknown, stored: Obj): unknown {
  const storedPem = valueAt(stored, CERTIFICATE_PEM);
  if (typeof storedPem !== 'string' || valueAt(stored, 'auth.type') !== 'oauth2') return input;
  if (valueAt(input, 'auth.type') !== 'oauth2') return input;
  if (valueAt(input, 'auth.credential.kind') !== 'certificate' || hasValueAt(input, CERTIFICATE_PEM))
    return input;
  return mergeSecrets(input as Obj, { [CERTIFICATE_PEM]: storedPem });
}

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
