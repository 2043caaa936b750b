import type { Request, RequestHandler } from 'express';
import { ApiError } from '../http/errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The request's own origin (`scheme://host[:port]`), as the browser would write it in `Origin`. */
function ownOrigin(req: Request): string | undefined {
  const host = req.get('host');
  return host ? `${req.protocol}://${host}`.toLowerCase() : undefined;
}

/**
 * CSRF defence for cookie-authenticated routes (S12). A state-changing request must
 * - be JSON (`Content-Type: application/json`), which a cross-site HTML form cannot send without a
 *   CORS preflight this server never grants, and
 * - come from our own origin: `Origin` equal to the request's origin (or one the operator listed),
 *   or `Sec-Fetch-Site: same-origin`.
 * Requests authenticated by an API key (no cookie; `Authorization: Bearer`) are not browser-ambient
 * and only need the JSON content type.
 */
export function csrfGuard(options: {
  allowedOrigins: readonly string[];
  onDenied: (req: Request, reason: string) => Promise<void>;
}): RequestHandler {
  const allowed = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  return async (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const hasBody =
      req.get('content-length') !== undefined
        ? req.get('content-length') !== '0'
        : req.get('transfer-encoding') !== undefined;
    if ((hasBody || req.method !== 'DELETE') && !req.is('application/json')) {
      await options.onDenied(req, 'content-type');
      return next(
        new ApiError(403, 'CSRF_CONTENT_TYPE', 'State-changing requests must be JSON', {
          hint: 'Send Content-Type: application/json',
        }),
      );
    }
    const bearer = /^Bearer\s/i.test(req.get('authorization') ?? '');
    if (bearer && !req.get('cookie')) return next();
    const origin = req.get('origin')?.toLowerCase();
    const fetchSite = req.get('sec-fetch-site')?.toLowerCase();
    const sameOrigin =
      origin !== undefined && origin !== 'null'
        ? origin === ownOrigin(req) || allowed.has(origin)
        : fetchSite === 'same-origin';
    if (!sameOrigin) {
      await options.onDenied(req, 'origin');
      return next(
        new ApiError(403, 'CSRF_ORIGIN', 'Cross-origin request refused', {
          hint: 'Call the API from the admin UI’s own origin, or list the origin in the server’s allowedOrigins',
        }),
      );
    }
    next();
  };
}
