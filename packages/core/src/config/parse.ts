import type { z } from 'zod';
import { ConfigError, type ConfigIssue, type ConfigIssueCode } from '../errors/smtp-oauth-error.js';
import { cloudOfLoginHost, entraClouds, isGraphScope, isMicrosoftHost } from './microsoft.js';

/** The Exchange scope of the cloud a token endpoint belongs to (global when unknown). */
function exchangeScopeFor(tokenEndpoint: string): string {
  try {
    return entraClouds[cloudOfLoginHost(new URL(tokenEndpoint).hostname) ?? 'global'].scope;
  } catch {
    return entraClouds.global.scope;
  }
}
import { type EmailServerConfig, emailServerConfigSchema } from './schema.js';
import { expectEmailServerConfig } from '../internal/guard.js';

/** Stable codes of non-fatal configuration findings. */
export type ConfigWarningCode =
  | 'PASSWORD_AUTH_DEPRECATED'
  | 'CLIENT_SECRET_NOT_RECOMMENDED'
  | 'NO_AUTH_ON_MICROSOFT_HOST'
  | 'MAX_CONNECTIONS_ABOVE_EXCHANGE_LIMIT'
  | 'RATE_ABOVE_EXCHANGE_LIMIT'
  | 'CERTIFICATE_EXPIRES_SOON'
  | 'SHA1_THUMBPRINT_DEPRECATED'
  | 'GRAPH_SCOPE'
  | 'PORT_465_ON_MICROSOFT'
  | 'HOST_UNRESOLVABLE';

/** A non-fatal finding: the entry works but should change. */
export interface ConfigWarning {
  path: string;
  code: ConfigWarningCode;
  message: string;
}

/** Result of {@link parseConfig}. */
export type ParseConfigResult =
  | { ok: true; config: EmailServerConfig; warnings: ConfigWarning[] }
  | { ok: false; issues: ConfigIssue[] };

/** Joins a zod path into the dotted form used everywhere (`auth.credential.secret`, `servers.0.host`). */
export function formatPath(path: readonly PropertyKey[]): string {
  if (!Array.isArray(path)) return String(path ?? '');
  return path.map((p) => String(p)).join('.');
}

/** Converts zod issues into `{ path, message }` with dotted paths, optionally prefixed. */
export function issuesFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  if (!Array.isArray(error?.issues)) return [{ path: formatPath(prefix), message: 'is invalid' }];
  return error.issues.map((i) => {
    const path = formatPath([...prefix, ...i.path]);
    let message = i.message;
    if (i.code === 'unrecognized_keys')
      message = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    else if (i.code === 'invalid_type' && i.input === undefined) message = 'is required';
    return { path, message, code: issueCode(i) };
  });
}

/** The {@link ConfigIssueCode} of a zod issue: custom rules name theirs in `params.code`. */
function issueCode(i: z.core.$ZodIssue): ConfigIssueCode {
  switch (i.code) {
    case 'custom': {
      const code = (i.params as { code?: ConfigIssueCode } | undefined)?.code;
      return code ?? 'INVALID_FORMAT';
    }
    case 'unrecognized_keys':
      return 'UNKNOWN_FIELD';
    case 'invalid_type':
      return i.input === undefined ? 'REQUIRED' : 'INVALID_VALUE';
    case 'invalid_value':
    case 'invalid_union':
      return 'INVALID_VALUE';
    case 'too_small':
      // `.min(1)` on a string is how the schema says "required": only the empty string fails it.
      return i.origin === 'string' && Number(i.minimum) === 1 ? 'REQUIRED' : 'OUT_OF_RANGE';
    case 'too_big':
      return 'OUT_OF_RANGE';
    default:
      return 'INVALID_FORMAT';
  }
}

/**
 * The basic-auth warning with Microsoft's dates (MC786329, update of 2026-01-27; HVE: MC1243552):
 * Exchange then answers `535 5.7.139 … basic authentication is disabled` or `550 5.7.30`.
 */
function basicAuthRetirement(host: string): string {
  const hve = /(^|\.)smtp-hve\.office365\.com\.?$/i.test(host.trim());
  const when = hve
    ? 'High Volume Email keeps basic SMTP AUTH until September 2028; the other Microsoft endpoints lose it first'
    : 'Microsoft disables basic SMTP AUTH by default at the end of December 2026 (existing tenants can re-enable it until the final removal, announced for the second half of 2027; tenants created after December 2026 do not have it)';
  return `${when}. Exchange then refuses the password with 535 5.7.139 or 550 5.7.30. Move this entry to OAuth2: smtp-oauth config migrate, or "Move to OAuth2" in the WebAdmin.`;
}

/**
 * Warnings for a valid entry: legacy password auth or a client secret on Microsoft hosts, no auth,
 * limits above Exchange Online's per-mailbox limits.
 */
export function configWarnings(config: EmailServerConfig): ConfigWarning[] {
  expectEmailServerConfig(config);
  const warnings: ConfigWarning[] = [];
  const microsoft = isMicrosoftHost(config.host);
  const { auth } = config;
  // A warning, not an error: the entry is well-formed and the admin may be mid-change; the token
  // test and the doctor show the consequence (wrong audience, 535 5.7.3). Entra tokens go to
  // Exchange whatever the host is called (a relay, a test server), so the provider counts too.
  if (auth.type === 'oauth2' && (microsoft || auth.provider === 'entra') && isGraphScope(auth.scope.trim()))
    warnings.push({
      path: 'auth.scope',
      code: 'GRAPH_SCOPE',
      message: `The scope is a Microsoft Graph scope: the token's audience would be Graph, and Exchange refuses it with 535 5.7.3. Use ${exchangeScopeFor(auth.tokenEndpoint)}`,
    });
  if (!microsoft) return warnings;
  if (auth.type === 'password')
    warnings.push({
      path: 'auth.type',
      code: 'PASSWORD_AUTH_DEPRECATED',
      message: basicAuthRetirement(config.host),
    });
  if (auth.type === 'none')
    warnings.push({
      path: 'auth.type',
      code: 'NO_AUTH_ON_MICROSOFT_HOST',
      message: 'Exchange Online refuses unauthenticated submission (530 5.7.57). Use oauth2.',
    });
  if (config.port === 465)
    warnings.push({
      path: 'port',
      code: 'PORT_465_ON_MICROSOFT',
      message:
        'Exchange Online takes SMTP submission on port 587 with STARTTLS; port 465 (implicit TLS) is not offered. Use 587.',
    });
  if (auth.type === 'oauth2' && auth.credential.kind === 'secret')
    warnings.push({
      path: 'auth.credential',
      code: 'CLIENT_SECRET_NOT_RECOMMENDED',
      message:
        'Microsoft recommends a certificate over a client secret for app-only access; secrets expire (at most 24 months) and are easier to leak.',
    });
  if (
    auth.type === 'oauth2' &&
    auth.credential.kind !== 'secret' &&
    auth.credential.thumbprint !== undefined &&
    auth.credential.thumbprint.replace(/[\s:]/g, '').length === 40
  )
    warnings.push({
      path: 'auth.credential.thumbprint',
      code: 'SHA1_THUMBPRINT_DEPRECATED',
      message:
        'is a SHA-1 thumbprint: still accepted, but MSAL deprecates SHA-1 certificate thumbprints (x5t). Assertions are signed PS256 with the SHA-256 thumbprint (x5t#S256); write the SHA-256 thumbprint here (smtp-oauth config init does).',
    });
  if (config.limits?.maxConnections !== undefined && config.limits.maxConnections > 3)
    warnings.push({
      path: 'limits.maxConnections',
      code: 'MAX_CONNECTIONS_ABOVE_EXCHANGE_LIMIT',
      message:
        'Exchange Online allows 3 concurrent connections per mailbox; more cause 432 4.3.2. Use 3 or fewer.',
    });
  if (config.limits?.messagesPerMinute !== undefined && config.limits.messagesPerMinute > 30)
    warnings.push({
      path: 'limits.messagesPerMinute',
      code: 'RATE_ABOVE_EXCHANGE_LIMIT',
      message:
        'Exchange Online accepts 30 messages per minute per mailbox and delays the rest. Use 30 or fewer.',
    });
  return warnings;
}

/**
 * Validates one email-server entry without throwing.
 *
 * @example
 * const r = parseConfig(input);
 * if (!r.ok) for (const i of r.issues) console.error(`${i.path}: ${i.message}`);
 */
export function parseConfig(input: unknown): ParseConfigResult {
  const result = emailServerConfigSchema.safeParse(input);
  if (!result.success) return { ok: false, issues: issuesFromZod(result.error) };
  return { ok: true, config: result.data, warnings: configWarnings(result.data) };
}

/**
 * Validates an entry written by hand and returns it with defaults applied.
 *
 * @throws ConfigError listing every issue with its field path.
 */
export function defineConfig(input: z.input<typeof emailServerConfigSchema>): EmailServerConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}
