import { catalogEntry, type ErrorCategory, isSmtpOAuthError, type SmtpOAuthError } from '@org/core';
import type { ApiErrorBody, ApiIssue } from '@org/core/api';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ServerError } from '../errors.js';
import { isDatabaseUnavailable } from '../outbox/unavailable.js';
import type { Logger } from '../logger.js';

/** One validation problem: core's HTTP contract (`@org/core/api`). */
export type Issue = ApiIssue;

/** The one error shape every API answer uses: `{ error: { code, message, hint?, issues? } }`. */
export type ErrorBody = ApiErrorBody;

/** An error meant for the client: status, stable code, readable message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly issues: Issue[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly transient: boolean | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      hint?: string;
      issues?: Issue[];
      cause?: unknown;
      headers?: Record<string, string>;
      transient?: boolean;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = options.hint;
    this.issues = options.issues;
    this.headers = options.headers;
    this.transient = options.transient;
    this.details = options.details;
  }

  toJSON(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.issues ? { issues: this.issues } : {}),
        ...(this.transient !== undefined ? { transient: this.transient } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/**
 * The HTTP status of each error category (core's catalog gives every error code one). One table, so
 * a code's status and the CLI's exit code (`cli/src/exit-codes.ts`) follow the same category: the
 * caller's message is a 4xx, an entry the operator must fix a 409, anything upstream a 502.
 */
export const httpStatusByCategory: Readonly<Record<ErrorCategory, number>> = {
  message: 400,
  'message-size': 413,
  config: 409,
  credential: 409,
  auth: 502,
  transient: 502,
  permanent: 502,
  'outcome-unknown': 502,
};

/**
 * Translates one of core's errors to HTTP, keeping its `code`, `hint`, `transient` and `details`
 * (core's `toJSON()`, which leaves out `cause`). Message problems are the caller's (4xx, with the
 * field as an issue); an unusable entry is a 409; everything upstream — token endpoint, TLS, SMTP,
 * network — is a 502.
 */
export function fromCoreError(error: SmtpOAuthError): ApiError {
  const json = error.toJSON();
  const details = json.details as { field?: unknown; issues?: unknown; retryAfterSeconds?: unknown };
  const status = httpStatusByCategory[catalogEntry(json.code).category];
  const issues: Issue[] | undefined = Array.isArray(details.issues)
    ? (details.issues as Issue[])
    : typeof details.field === 'string'
      ? [{ path: details.field, message: json.message }]
      : undefined;
  const { issues: _i, ...rest } = json.details;
  return new ApiError(status, json.code, json.message, {
    hint: json.hint,
    transient: json.transient,
    ...(Object.keys(rest).length ? { details: rest } : {}),
    ...(issues ? { issues } : {}),
    ...(typeof details.retryAfterSeconds === 'number'
      ? { headers: { 'Retry-After': String(Math.ceil(details.retryAfterSeconds)) } }
      : {}),
    cause: error,
  });
}

/** Any thrown value as an {@link ApiError} if it is one of ours or core's; otherwise undefined. */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (isSmtpOAuthError(error)) return fromCoreError(error);
  return undefined;
}

/** Errors raised by express's JSON body parser carry a `type`; map each to a 4xx. */
function fromBodyParser(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  const type = (error as { type: unknown }).type;
  switch (type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'INVALID_JSON', 'The request body is not valid JSON', {
        hint: 'Send a JSON object with Content-Type: application/json',
      });
    case 'entity.too.large':
      return new ApiError(413, 'BODY_TOO_LARGE', 'The request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_ENCODING', 'Unsupported content encoding or charset', {
        hint: 'Send UTF-8 JSON without Content-Encoding',
      });
    case 'request.aborted':
      return new ApiError(400, 'REQUEST_ABORTED', 'The request was aborted');
    case 'request.size.invalid':
      return new ApiError(400, 'INVALID_CONTENT_LENGTH', 'Content-Length does not match the body');
    default:
      return undefined;
  }
}

/** A database outage is temporary: 503 with Retry-After, so clients and load balancers retry. */
function fromDatabaseOutage(error: unknown): ApiError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  return new ApiError(503, 'DATABASE_UNAVAILABLE', 'The database cannot be reached right now', {
    hint: 'Retry after the time in Retry-After',
    headers: { 'Retry-After': '5' },
    transient: true,
  });
}

export function notFoundApi(): RequestHandler {
  return (req, _res, next) => next(new ApiError(404, 'NOT_FOUND', `No API route ${req.method} ${req.path}`));
}

/**
 * Final error handler. Known errors become their 4xx; anything else becomes a 500 with a generic
 * message. Only the error's name/code and the request id are logged — never its message (it could
 * quote input) nor the body.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toApiError(error) ?? fromBodyParser(error) ?? fromDatabaseOutage(error);
    if (known) {
      if (known.headers) res.set(known.headers);
      res.status(known.status).json(known.toJSON());
      return;
    }
    const status =
      typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status < 500) {
      res
        .status(status)
        .json({ error: { code: 'BAD_REQUEST', message: 'The request could not be processed' } });
      return;
    }
    logger.error('request failed', {
      requestId: res.locals.requestId,
      method: req.method,
      route: req.route?.path ?? req.path,
      errorName: error instanceof Error ? error.name : typeof error,
      errorCode: typeof error?.code === 'string' ? error.code : undefined,
    });
    if (error instanceof ServerError) {
      // Operator-facing failures (e.g. a secret that no configured key decrypts): code and hint are
      // safe by construction and tell the operator what to fix.
      res
        .status(500)
        .json({ error: { ...error.toJSON(), message: 'The server cannot complete this request' } });
      return;
    }
    res.status(500).json({
      error: {
        code: 'INTERNAL',
        message: 'Internal server error',
        hint: `Quote request id ${res.locals.requestId}`,
      },
    } satisfies ErrorBody);
  };
}
