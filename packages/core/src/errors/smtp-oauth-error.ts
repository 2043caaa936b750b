import { catalogEntry, type ErrorCode } from './catalog.js';
import { redactSecrets } from './redact.js';

/** Safe, redacted data attached to an error (server replies, AADSTS codes, field names). */
export type ErrorDetails = Record<string, unknown>;

/** Options for {@link SmtpOAuthError}. */
export interface SmtpOAuthErrorOptions {
  /** What the human should do. @default the catalog's fix for the code */
  hint?: string;
  /** Whether retrying may help. @default the catalog's classification for the code */
  transient?: boolean;
  cause?: unknown;
  /** Safe data only: never secrets, tokens or message bodies. */
  details?: ErrorDetails;
}

/** The JSON form of an error, safe to return over HTTP. */
export interface SmtpOAuthErrorJSON {
  name: string;
  code: ErrorCode;
  message: string;
  hint: string;
  transient: boolean;
  details: ErrorDetails;
}

/**
 * The one error class of the toolkit. Match on {@link SmtpOAuthError.code}, never on the message.
 *
 * @remarks `message`, `hint` and `details` never contain secrets; `cause` may hold the original
 * low-level error and is deliberately left out of {@link SmtpOAuthError.toJSON}.
 */
export class SmtpOAuthError extends Error {
  override name = 'SmtpOAuthError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly transient: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: SmtpOAuthErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    const entry = catalogEntry(code);
    this.code = code;
    this.hint = redactSecrets(options.hint ?? entry.fix);
    this.transient = options.transient ?? entry.transient;
    this.details = redactDetails(options.details ?? {}) as ErrorDetails;
  }

  toJSON(): SmtpOAuthErrorJSON {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      transient: this.transient,
      details: this.details,
    };
  }
}

/** Every string in the details (server replies, transcripts) passes the same redaction as the message. */
function redactDetails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactDetails(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDetails(v, depth + 1)]));
}

/** One validation problem: a dotted field path (`auth.scope`) and what is wrong with it. */
export interface ConfigIssue {
  path: string;
  message: string;
  /**
   * What kind of problem this is, so front ends decide without reading `message` (e.g. a form says
   * "Client ID is required" for `REQUIRED`). Absent on issues built before codes existed.
   */
  code?: ConfigIssueCode;
}

/**
 * Stable kinds of {@link ConfigIssue}: generic ones from the schema, and one per cross-field rule.
 * - `REQUIRED`: missing or empty. `UNKNOWN_FIELD`: a key the schema does not know.
 * - `INVALID_VALUE`: not one of the allowed values. `INVALID_FORMAT`: wrong shape (URL, PEM, host…).
 * - `OUT_OF_RANGE`: a number or length outside its bounds. `CONTROL_CHARACTERS`: CR, LF or NUL.
 * - the rest name the rule: port vs security, Entra token endpoint, tenant, client ID, scope,
 *   client authentication method, a secret's ID typed for its Value.
 */
export type ConfigIssueCode =
  | 'REQUIRED'
  | 'UNKNOWN_FIELD'
  | 'INVALID_VALUE'
  | 'INVALID_FORMAT'
  | 'OUT_OF_RANGE'
  | 'CONTROL_CHARACTERS'
  | 'PORT_SECURITY_MISMATCH'
  | 'TOKEN_ENDPOINT_NOT_ENTRA_V2'
  | 'TENANT_INVALID'
  | 'CLIENT_ID_NOT_GUID'
  | 'SCOPE_NOT_DEFAULT'
  | 'CLIENT_AUTH_METHOD_MISMATCH'
  | 'SECRET_LOOKS_LIKE_ID'
  | 'THUMBPRINT_MISMATCH'
  | 'CLOUD_MISMATCH'
  | 'PASTE_DAMAGE';

/** Thrown when configuration is invalid; `issues` lists every problem with its field path. */
export class ConfigError extends SmtpOAuthError {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];

  constructor(
    issues: ConfigIssue[],
    options: SmtpOAuthErrorOptions & {
      source?: string;
      /** Credential problems are configuration problems with their own code. @default 'CONFIG_INVALID' */
      code?: 'CONFIG_INVALID' | 'CREDENTIAL_INVALID' | 'CREDENTIAL_EXPIRED';
    } = {},
  ) {
    const where = options.source ? ` in ${options.source}` : '';
    const list = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    const code = options.code ?? 'CONFIG_INVALID';
    const title = code === 'CONFIG_INVALID' ? 'Invalid configuration' : 'Invalid certificate credential';
    super(code, `${title}${where}: ${list}`, {
      ...options,
      details: { ...options.details, ...(options.source ? { source: options.source } : {}), issues },
    });
    this.issues = issues;
  }
}

/** Type guard usable across package copies (checks shape, not identity). */
export function isSmtpOAuthError(value: unknown): value is SmtpOAuthError {
  return (
    value instanceof SmtpOAuthError ||
    (value instanceof Error &&
      typeof (value as { code?: unknown }).code === 'string' &&
      typeof (value as { hint?: unknown }).hint === 'string' &&
      typeof (value as { transient?: unknown }).transient === 'boolean')
  );
}
