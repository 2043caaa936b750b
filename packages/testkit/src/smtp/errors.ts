/** Stable codes for failures of the SMTP test server's own API (not SMTP replies, which are protocol data). */
export type SmtpServerErrorCode = 'SMTP_WAIT_TIMEOUT' | 'SMTP_INVALID_OPTIONS' | 'SMTP_LISTEN_FAILED';

/** An error raised by the testkit SMTP server's API. Match on `code`, never on the message. */
export class SmtpServerError extends Error {
  override readonly name = 'SmtpServerError';
  readonly code: SmtpServerErrorCode;
  /** What the human can do about it. */
  readonly hint: string;

  constructor(code: SmtpServerErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = hint;
  }

  toJSON(): { name: string; code: SmtpServerErrorCode; message: string; hint: string } {
    return { name: this.name, code: this.code, message: this.message, hint: this.hint };
  }
}
