import { isSmtpOAuthError } from '@org/core';
import { ApiError } from '../http/errors.js';

/** How one failed attempt ends. */
export interface AttemptFailure {
  /**
   * `transient`: try again later; `permanent`: give up now; `unknown`: the server may have the
   * message (cut off after the final "."), so it is never re-sent without an operator.
   */
  kind: 'transient' | 'permanent' | 'unknown';
  code: string;
  hint: string | null;
  reply: string | null;
  /** The server's Retry-After, ms. */
  retryAfterMs: number | undefined;
}

/**
 * core's code for "the connection broke after the final '.' was sent" (added to core's catalog by
 * the core fault work; matched by its string so this works before and after that change).
 */
export const OUTCOME_UNKNOWN_CODE = 'SMTP_OUTCOME_UNKNOWN';

/** Reads a failed attempt: core's typed errors by `code` and `transient`, never by message text. */
export function classifyFailure(error: unknown): AttemptFailure {
  if (isSmtpOAuthError(error)) {
    const details = error.details as { reply?: unknown; retryAfterSeconds?: unknown; outcome?: unknown };
    const reply = typeof details.reply === 'string' ? details.reply.slice(0, 1000) : null;
    const retryAfterMs =
      typeof details.retryAfterSeconds === 'number' ? details.retryAfterSeconds * 1000 : undefined;
    const unknown = (error.code as string) === OUTCOME_UNKNOWN_CODE || details.outcome === 'unknown';
    return {
      kind: unknown ? 'unknown' : error.transient ? 'transient' : 'permanent',
      code: error.code,
      hint: error.hint,
      reply,
      retryAfterMs,
    };
  }
  if (error instanceof ApiError) {
    // The stored entry is gone or unusable (S5/S6 guard): an operator must act; retry is explicit.
    return {
      kind: 'permanent',
      code: error.code,
      hint: error.hint ?? null,
      reply: null,
      retryAfterMs: undefined,
    };
  }
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'MAILER_CALL_TIMEOUT'
  ) {
    return {
      kind: 'unknown',
      code: 'MAILER_CALL_TIMEOUT',
      hint: 'The mailer thread did not answer in time and was replaced; the message may have been delivered. Check, then retry it.',
      reply: null,
      retryAfterMs: undefined,
    };
  }
  // Anything else (the mailer thread died mid-call, …): whether the server got the message is not known.
  return {
    kind: 'unknown',
    code: 'OUTBOX_DELIVERY_INTERRUPTED',
    hint: 'Delivery stopped for an internal reason; the message may have been delivered. Check, then retry it.',
    reply: null,
    retryAfterMs: undefined,
  };
}
