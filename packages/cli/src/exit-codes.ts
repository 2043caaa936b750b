/**
 * The CLI's exit codes. Stable: scripts and CI pipelines branch on them.
 * Kept free of imports so `--help` can print them without loading core.
 */
export const ExitCode = {
  /** Everything worked. */
  Ok: 0,
  /** Internal error (a bug): please report it. */
  Internal: 1,
  /** Wrong arguments, or the configuration is missing or invalid. Nothing was sent. */
  Usage: 2,
  /** Authentication or authorization failed: token endpoint refused, 535, mailbox/SendAs permission. */
  Auth: 3,
  /** A transient failure (network, throttling, 4xx): retrying later may succeed. */
  Transient: 4,
  /** A permanent failure (5xx rejection, TLS, message refused): retrying will not help. */
  Permanent: 5,
  /**
   * The message was sent but the server's answer never arrived (SMTP_OUTCOME_UNKNOWN): it may have
   * been delivered. Check before resending; a resend with the same Message-ID can be deduplicated.
   */
  OutcomeUnknown: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const USAGE_CODES = new Set([
  'CONFIG_INVALID',
  'CONFIG_FILE_UNREADABLE',
  'CREDENTIAL_INVALID',
  'MESSAGE_INVALID',
  'MESSAGE_HEADER_INJECTION',
]);

const AUTH_PREFIXES = ['TOKEN_', 'SMTP_AUTH_'];
const AUTH_CODES = new Set([
  'CREDENTIAL_EXPIRED',
  'SMTP_SECURITY_DEFAULTS',
  'SMTP_BASIC_AUTH_DISABLED',
  'SMTP_NOT_AUTHENTICATED',
  'SMTP_MAILBOX_LOGON_FAILED',
  'SMTP_SEND_AS_DENIED',
]);

/** Maps an error (an `SmtpOAuthError` or anything else) to the exit code class. */
export function exitCodeFor(err: unknown): ExitCodeValue {
  const e = err as { code?: unknown; transient?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code === 'USAGE') return ExitCode.Usage;
  if (!code || typeof e?.transient !== 'boolean') return ExitCode.Internal;
  if (USAGE_CODES.has(code)) return ExitCode.Usage;
  if (code === 'SMTP_OUTCOME_UNKNOWN') return ExitCode.OutcomeUnknown;
  // Throttling and outages of the token endpoint are transient even though they are TOKEN_*.
  if (e.transient && code !== 'SMTP_MAILBOX_LOGON_FAILED') return ExitCode.Transient;
  if (AUTH_CODES.has(code) || AUTH_PREFIXES.some((p) => code.startsWith(p))) return ExitCode.Auth;
  return ExitCode.Permanent;
}

/** The exit code of a doctor run, from the first failed step. */
export function exitCodeForStep(stepId: string | undefined): ExitCodeValue {
  switch (stepId) {
    case undefined:
      return ExitCode.Ok;
    case 'config':
      return ExitCode.Usage;
    case 'dns':
    case 'tcp':
      return ExitCode.Transient;
    case 'tls':
    case 'ehlo':
      return ExitCode.Permanent;
    default:
      return ExitCode.Auth;
  }
}
