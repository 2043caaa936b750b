import { isSmtpOAuthError } from '@org/core';

/**
 * An SMTP reply for smtp-server: the library sends `responseCode`, its enhanced status code
 * (RFC 3463, chosen from the code) and this message.
 */
export class RelayReply extends Error {
  readonly responseCode: number;
  constructor(responseCode: number, message: string) {
    super(message);
    this.name = 'RelayReply';
    this.responseCode = responseCode;
  }
  /** What the device saw, e.g. `550 From address …` (for the device's "last error"). */
  get text(): string {
    return `${this.responseCode} ${this.message}`;
  }
}

export const MiB = 1024 * 1024;

/**
 * Maps a failed submission to a reply: the outbox's temporary conditions make the device retry
 * (451/452, RFC 5321 §4.2.5); a delivery refusal from the email server (the direct fallback
 * delivers before answering) is passed on with core's code and hint, never with message content.
 */
export function replyForSubmitError(error: unknown): RelayReply {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'OUTBOX_FULL')
    return new RelayReply(452, 'The outbox is over its limit; try again in a few minutes');
  if (code === 'OUTBOX_UNAVAILABLE' || code === 'SHUTTING_DOWN')
    return new RelayReply(
      451,
      'The outbox is not available right now (database or shutdown); try again later',
    );
  if (isSmtpOAuthError(error)) {
    const text = `${error.code}: ${error.message}${error.hint ? ` - ${error.hint}` : ''}`.replace(
      /\s+/g,
      ' ',
    );
    return new RelayReply(error.transient ? 451 : 554, text.slice(0, 400));
  }
  if (typeof code === 'string' && error instanceof Error)
    // The entry cannot be used as stored (ApiError from the entry runtime): an admin must act; the
    // device keeps the message and retries meanwhile.
    return new RelayReply(451, `${code}: ${error.message}`.replace(/\s+/g, ' ').slice(0, 400));
  return new RelayReply(451, 'Temporary local problem while accepting the message; try again later');
}
