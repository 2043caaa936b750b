import { type ErrorCode, errorCodes, type SendResult, SmtpOAuthError } from '@org/core';
import { ApiError, fromCoreError } from '../http/errors.js';
import type { OutboxRow } from './driver.js';

/** A sent message's result in core's SendResult shape (today's synchronous answer), plus its outbox id. */
export function sendResultOf(row: OutboxRow): SendResult & { id: string; status: 'sent' } {
  return {
    id: row.id,
    status: 'sent',
    messageId: row.message_id,
    accepted: row.accepted_json ? (JSON.parse(row.accepted_json) as string[]) : [],
    rejected: row.rejected_json ? (JSON.parse(row.rejected_json) as string[]) : [],
    response: row.last_reply ?? '',
  };
}

/**
 * The error answer for a message that ended `failed` or `unknown` while the caller waited: core's
 * codes keep their HTTP mapping (4xx for the caller's message, 409 entry, 502 upstream), with the
 * stored hint and `details.id` / `details.status` / `details.reply`.
 */
export function outcomeError(row: OutboxRow): ApiError {
  const code = row.last_code ?? 'OUTBOX_FAILED';
  const details = { id: row.id, status: row.status, ...(row.last_reply ? { reply: row.last_reply } : {}) };
  const message =
    row.status === 'unknown'
      ? `Whether the SMTP server accepted the message is unknown (${code}); it will not be re-sent automatically`
      : `The message was not delivered (${code})`;
  const hint = row.last_hint ? { hint: row.last_hint } : {};
  if ((errorCodes as readonly string[]).includes(code))
    return fromCoreError(
      new SmtpOAuthError(code as ErrorCode, message, { ...hint, transient: false, details }),
    );
  // Not one of core's codes: the stored entry was unusable at delivery (deleted, S5/S6 refused) —
  // 409 like at acceptance — or, for `unknown`, the delivery was cut off on our side (502).
  return new ApiError(row.status === 'unknown' ? 502 : 409, code, message, { ...hint, details });
}
