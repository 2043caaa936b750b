import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ServerError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface Issue {
  path: string;
  message: string;
}

/** The one error shape every API answer uses: `{ error: { code, message, hint?, issues? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; hint?: string; issues?: Issue[] };
}

/** An error meant for the client: status, stable code, readable message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly issues: Issue[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { hint?: string; issues?: Issue[]; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = options.hint;
    this.issues = options.issues;
    this.headers = options.headers;
  }

  toJSON(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.issues ? { issues: this.issues } : {}),
      },
    };
  }
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
    const known = error instanceof ApiError ? error : fromBodyParser(error);
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
