/**
 * Server-side failures with a stable `code`, a `hint` for the operator and ES2022 `cause`. HTTP
 * translation lives in http/errors.ts; these never carry secret values in their message.
 */
export class ServerError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServerError';
    this.code = code;
    this.hint = options.hint;
  }

  toJSON(): { code: string; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}
