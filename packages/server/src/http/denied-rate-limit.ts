import type { RequestHandler } from 'express';
import type { AuditTrail } from '../audit.js';
import { ApiError } from './errors.js';

/**
 * A source that caused more than `maxDeniedPerSource` denials (401/403) in the current interval gets
 * 429 at once, before authentication, CSRF checks or auditing (issue 13 §7: 500 unauthenticated
 * requests wrote 500 audit rows).
 */
export function deniedRateLimit(audit: Pick<AuditTrail, 'deniedRetryAfter'>): RequestHandler {
  return (req, _res, next) => {
    const retryAfter = audit.deniedRetryAfter(req.ip);
    if (retryAfter <= 0) return next();
    next(
      new ApiError(429, 'TOO_MANY_DENIED', 'Too many refused requests from this address', {
        hint: `Try again in ${retryAfter} seconds with valid credentials`,
        headers: { 'Retry-After': String(retryAfter) },
      }),
    );
  };
}
