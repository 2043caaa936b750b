import { expectObject, expectString } from '../internal/guard.js';
import type { ConfigIssue } from '../errors/smtp-oauth-error.js';
import { type ConfigWarning, parseConfig } from './parse.js';

/**
 * The one home for which parts of an email-server entry are credentials, how they are split out for
 * storage and put back, and how an update is read against what is stored (S3 in SECURITY.md):
 *
 * - an update that omits a secret keeps the stored one, as long as the secret's container is the same
 *   kind (same auth type, same credential kind);
 * - a stored secret never follows a changed destination: when anything that decides where a
 *   credential or token goes (SMTP host, port, security, `tls.ca`, token endpoint, proxy, provider,
 *   auth type) changes, the secret must be supplied again in the same update.
 *
 * Browser-safe: used by the config loader, redaction, the server and the admin UI.
 */

/** How a credential field is written when it comes from `env:NAME` / `file:PATH` references. */
export type CredentialFieldEncoding = 'secret' | 'text' | 'binary';

/** One credential-bearing field of an entry. */
export interface CredentialField {
  /** Dotted path, e.g. `auth.credential.secret`. */
  readonly path: string;
  /** `secret`: a one-line value; `text`: PEM text; `binary`: base64 of a file. */
  readonly encoding: CredentialFieldEncoding;
  /** True for values that must never be shown or returned (the certificate PEM is public). */
  readonly secret: boolean;
}

/** Every credential field of an entry, secret or not. */
export const CREDENTIAL_FIELDS: readonly CredentialField[] = [
  { path: 'auth.password', encoding: 'secret', secret: true },
  { path: 'auth.credential.secret', encoding: 'secret', secret: true },
  { path: 'auth.credential.privateKeyPem', encoding: 'text', secret: true },
  { path: 'auth.credential.pfxBase64', encoding: 'binary', secret: true },
  { path: 'auth.credential.passphrase', encoding: 'secret', secret: true },
  { path: 'auth.credential.certificatePem', encoding: 'text', secret: false },
];

/** The secret paths: stored encrypted, one envelope each, and write-only over any API. */
export const SECRET_PATHS = [
  'auth.password',
  'auth.credential.secret',
  'auth.credential.privateKeyPem',
  'auth.credential.pfxBase64',
  'auth.credential.passphrase',
] as const;

/** A dotted secret path (see {@link SECRET_PATHS}). */
export type SecretPath = (typeof SECRET_PATHS)[number];

/**
 * Fields that decide where a credential or token is sent. A change to any of them makes every stored
 * secret of the entry required again. `proxy` and `auth.proxy` cover an outbound proxy wherever the
 * schema places it.
 */
export const DESTINATION_PATHS = [
  'host',
  'port',
  'security',
  'tls.ca',
  'proxy',
  'auth.type',
  'auth.provider',
  'auth.tokenEndpoint',
  'auth.proxy',
] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parentOf(root: unknown, path: string): { parent: Obj; key: string } | undefined {
  const parts = path.split('.');
  const key = parts.pop() as string;
  let node: unknown = root;
  for (const p of parts) {
    if (!isObj(node)) return undefined;
    node = node[p];
  }
  return isObj(node) ? { parent: node, key } : undefined;
}

/** The value at a dotted path, or `undefined`. */
export function valueAtPath(root: unknown, path: string): unknown {
  expectString(path, 'path');
  const at = parentOf(root, path);
  return at ? at.parent[at.key] : undefined;
}

/** True when `path` exists in `input` with a value (an update that sets this field). */
export function hasValueAt(input: unknown, path: string): boolean {
  expectString(path, 'path');
  return valueAtPath(input, path) !== undefined;
}

/** Removes secret values from a deep copy of a config; returns both halves. */
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

/** Puts values (secrets, or the stored certificate PEM) back into a deep copy of a public config. */
export function mergeSecrets(publicConfig: Obj, secrets: Partial<Record<string, string>>): Obj {
  expectObject(publicConfig, 'publicConfig');
  expectObject(secrets, 'secrets');
  const config = structuredClone(publicConfig);
  for (const [path, value] of Object.entries(secrets)) {
    const at = parentOf(config, path);
    if (at && value !== undefined) at.parent[at.key] = value;
  }
  return config;
}

// The SMTP port and security as core's schema fills them in (465 ⇒ tls, otherwise starttls on 587).
function effective(root: unknown, path: string): unknown {
  const port = valueAtPath(root, 'port');
  const security = valueAtPath(root, 'security');
  if (path === 'port') return port ?? (security === 'tls' ? 465 : 587);
  if (path === 'security') return security ?? (port === 465 ? 'tls' : 'starttls');
  return valueAtPath(root, path);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Which destination fields differ between an update and the stored entry (port and security compared
 * after core's defaults, so omitting `port: 587` is no change).
 *
 * @returns dotted paths from {@link DESTINATION_PATHS}, in that order; empty when nothing moved.
 */
export function changedDestination(input: unknown, stored: unknown): string[] {
  return DESTINATION_PATHS.filter((path) => !same(effective(input, path), effective(stored, path)));
}

const CERTIFICATE_PEM = 'auth.credential.certificatePem';

function kindOf(root: unknown, path: string): unknown {
  const authType = valueAtPath(root, 'auth.type');
  if (path === 'auth.password') return authType === 'password' ? 'password' : undefined;
  return authType === 'oauth2' ? valueAtPath(root, 'auth.credential.kind') : undefined;
}

/** A secret an update must supply again, and why. */
export interface RequiredSecret {
  /** The secret's dotted path, e.g. `auth.password`. */
  path: SecretPath;
  /** Readable reason naming the changed destination fields. */
  message: string;
}

/** How an update is read against the stored entry. */
export interface SecretUpdatePlan {
  /** The update with the stored certificate PEM filled in where it is kept (the PEM is public). */
  input: unknown;
  /** Stored secrets that still apply and must be merged in before validation. */
  carried: SecretPath[];
  /** Stored secrets that would have been kept but may not follow the changed destination. */
  required: RequiredSecret[];
  /** Destination fields that changed (see {@link changedDestination}). */
  destinationChanged: string[];
}

/**
 * Reads an update against the stored entry (S3).
 *
 * A stored secret carries over when the update omits it and its container is the same kind; a key
 * belongs to its certificate and a passphrase to its PFX, so a new upload replaces both. When a
 * destination field changed, nothing carries over: each secret that would have been kept is listed in
 * `required` instead, and the caller answers 400 naming it.
 *
 * @param input the update as received (secrets may be omitted)
 * @param storedConfig the stored public config (secrets split out)
 * @param storedSecretPaths which secrets are stored for the entry
 */
export function planSecretUpdate(
  input: unknown,
  storedConfig: Obj,
  storedSecretPaths: readonly string[],
): SecretUpdatePlan {
  expectObject(storedConfig, 'storedConfig');
  if (!Array.isArray(storedSecretPaths)) expectObject(undefined, 'storedSecretPaths');
  const destinationChanged = changedDestination(input, storedConfig);
  const keepsCertificate =
    valueAtPath(storedConfig, 'auth.type') === 'oauth2' &&
    typeof valueAtPath(storedConfig, CERTIFICATE_PEM) === 'string' &&
    valueAtPath(input, 'auth.type') === 'oauth2' &&
    valueAtPath(input, 'auth.credential.kind') === 'certificate' &&
    !hasValueAt(input, CERTIFICATE_PEM);
  const wouldCarry = (SECRET_PATHS as readonly string[]).filter((path) => {
    if (!storedSecretPaths.includes(path)) return false;
    if (hasValueAt(input, path) || !parentOf(input, path)) return false;
    const kind = kindOf(input, path);
    if (kind === undefined || kind !== kindOf(storedConfig, path)) return false;
    if (path === 'auth.credential.privateKeyPem')
      return (
        keepsCertificate || valueAtPath(input, CERTIFICATE_PEM) === valueAtPath(storedConfig, CERTIFICATE_PEM)
      );
    if (path === 'auth.credential.passphrase') return !hasValueAt(input, 'auth.credential.pfxBase64');
    return true;
  }) as SecretPath[];

  if (destinationChanged.length > 0) {
    const fields = destinationChanged.join(', ');
    return {
      input,
      carried: [],
      // A passphrase without its PFX is never asked for on its own: the PFX is what is required.
      required: wouldCarry
        .filter(
          (path) =>
            path !== 'auth.credential.passphrase' || !wouldCarry.includes('auth.credential.pfxBase64'),
        )
        .map((path) => ({
          path,
          message: `must be entered again: ${fields} changed, and a stored credential is never sent to a new destination`,
        })),
      destinationChanged,
    };
  }
  const filled = keepsCertificate
    ? mergeSecrets(input as Obj, { [CERTIFICATE_PEM]: valueAtPath(storedConfig, CERTIFICATE_PEM) as string })
    : input;
  return { input: filled, carried: wouldCarry, required: [], destinationChanged };
}

// Schema-valid stand-ins for secrets the server keeps, used only inside validateUpdate: a form that
// omits a kept secret is checked like a complete entry. They never leave this module.
const KEPT: Record<string, string> = {
  'auth.password': 'kept',
  'auth.credential.secret': 'kept',
  'auth.credential.privateKeyPem': '-----BEGIN PRIVATE KEY-----\nkept\n-----END PRIVATE KEY-----',
  'auth.credential.pfxBase64': 'a2VwdA==',
  'auth.credential.passphrase': 'kept',
  'auth.credential.certificatePem': '-----BEGIN CERTIFICATE-----\nkept\n-----END CERTIFICATE-----',
};

/**
 * Validates an update the way the server will read it: secrets in `kept` (and a kept certificate
 * PEM) count as present, everything else is checked by core's schema. For editors that hold no
 * secret values, so they need not invent stand-ins of their own.
 *
 * @param kept dotted paths the server keeps when the update omits them (see {@link planSecretUpdate})
 * @returns issues and warnings only: the checked config holds stand-ins and is never returned.
 */
export function validateUpdate(
  input: unknown,
  kept: readonly string[],
): { ok: boolean; issues: ConfigIssue[]; warnings: ConfigWarning[] } {
  if (!Array.isArray(kept)) expectObject(undefined, 'kept');
  const fill = Object.fromEntries(
    kept.filter((p) => KEPT[p] !== undefined && !hasValueAt(input, p)).map((p) => [p, KEPT[p] as string]),
  );
  const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
  const result = parseConfig(isObject ? mergeSecrets(input as Obj, fill) : input);
  return result.ok
    ? { ok: true, issues: [], warnings: result.warnings }
    : { ok: false, issues: result.issues, warnings: [] };
}
