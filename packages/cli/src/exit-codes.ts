import type { ErrorCategory } from '@org/core';

/**
 * The CLI's exit codes. Stable: scripts and CI pipelines branch on them.
 * Kept free of runtime imports so `--help` can print them without loading core; `exitCodeFor` (which
 * needs core's catalog) lives in `report.ts`.
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

/**
 * The exit code of each error category (core's catalog gives every error code one). One table, so
 * a code's exit code and its HTTP status (`server/src/http/errors.ts`) follow the same category.
 */
export const exitCodeByCategory: Readonly<Record<ErrorCategory, ExitCodeValue>> = {
  config: ExitCode.Usage,
  message: ExitCode.Usage,
  'message-size': ExitCode.Usage,
  credential: ExitCode.Auth,
  auth: ExitCode.Auth,
  transient: ExitCode.Transient,
  permanent: ExitCode.Permanent,
  'outcome-unknown': ExitCode.OutcomeUnknown,
};

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
