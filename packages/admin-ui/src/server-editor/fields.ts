/**
 * The one map from core's config paths to what the screen shows: a field's label, where it sits
 * (e.g. under "Advanced") and the input to focus for "Fix in editor". Messages, summaries, diagnostics
 * and "Fix in editor" links all read it; nothing else spells a label for a config path.
 */

/** Where a config path lives on the editor screen. */
export interface ScreenField {
  /** The field's label as the screen shows it, e.g. "Scope". */
  label: string;
  /** The collapsible section holding it, if any (the editor opens it before focusing). */
  section?: 'Advanced';
  /** `name` of the input to focus; absent when the path is a group (e.g. the credential choice). */
  input?: string;
}

export const screenFields: Readonly<Record<string, ScreenField>> = {
  name: { label: 'Name', input: 'name' },
  tenant: { label: 'Tenant', input: 'tenant' },
  host: { label: 'SMTP server', input: 'host' },
  port: { label: 'Port', input: 'port' },
  security: { label: 'Encryption', input: 'security' },
  user: { label: 'User (mailbox)', input: 'user' },
  from: { label: 'From address', input: 'from' },
  'auth.type': { label: 'Authentication', input: 'authType' },
  'auth.provider': { label: 'Provider', input: 'preset' },
  'auth.tokenEndpoint': { label: 'Token endpoint', input: 'tokenEndpoint' },
  'auth.clientId': { label: 'Client ID', input: 'clientId' },
  'auth.scope': { label: 'Scope', input: 'scope' },
  'auth.clientAuthMethod': { label: 'Client authentication', section: 'Advanced', input: 'clientAuthMethod' },
  'auth.permissionModel': { label: 'Permission model', section: 'Advanced', input: 'permissionModel' },
  'auth.credential': { label: 'Credential', input: 'credentialKind' },
  'auth.credential.secret': { label: 'Client secret', input: 'secret' },
  'auth.credential.certificatePem': { label: 'Certificate', input: 'certificateFile' },
  'auth.credential.privateKeyPem': { label: 'Private key', input: 'privateKeyFile' },
  'auth.credential.pfxBase64': { label: 'PFX file', input: 'pfxFile' },
  'auth.credential.passphrase': { label: 'Passphrase', input: 'passphrase' },
  'auth.credential.thumbprint': { label: 'Thumbprint', input: 'thumbprint' },
  'auth.password': { label: 'Password', input: 'password' },
  'tls.ca': { label: 'Trusted CA certificate', section: 'Advanced', input: 'tlsCa' },
  'limits.maxConnections': { label: 'Max connections', section: 'Advanced', input: 'maxConnections' },
  'limits.messagesPerMinute': {
    label: 'Messages per minute',
    section: 'Advanced',
    input: 'messagesPerMinute',
  },
};

/** Field labels, by config path: used to phrase core's messages ("Client ID is required: …"). */
export const fieldLabels: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(screenFields).map(([path, f]) => [path, f.label]),
);

/** The field as a reader finds it: "Scope", "Advanced → Trusted CA certificate"; the path if unknown. */
export function fieldLocation(path: string): string {
  const f = screenFields[path];
  if (!f) return path;
  return f.section ? `${f.section} → ${f.label}` : f.label;
}

// Longest first, so `auth.credential.secret` wins over `auth.credential`.
const KNOWN_PATHS = Object.keys(screenFields)
  .filter((p) => p.includes('.'))
  .sort((a, b) => b.length - a.length)
  .map((p) => p.replace(/\./g, '\\.'));
// In a code span any known path counts, a single word too (`port`): a code span names one thing.
const CODE_PATH_IN_TEXT = new RegExp(
  `\`(${Object.keys(screenFields)
    .sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/\./g, '\\.'))
    .join('|')})\``,
  'g',
);
const PATH_IN_TEXT = new RegExp(`(^|[\\s(\`"'])(${KNOWN_PATHS.join('|')})(?![\\w.]*\\w)`, 'g');

/**
 * Core's fixes name config paths (`auth.scope`, `tls.ca`), as the CLI and config files need; the
 * screen names its fields. Replaces each known dotted path with the field as the screen shows it
 * (“Scope”, “Advanced → Trusted CA certificate”). Display only: decisions use codes and `fields`.
 */
export function labelConfigPaths(text: string): string {
  return text
    .replace(CODE_PATH_IN_TEXT, (_m, path: string) => `“${fieldLocation(path)}”`)
    .replace(PATH_IN_TEXT, (_m, before: string, path: string) => `${before}“${fieldLocation(path)}”`);
}
