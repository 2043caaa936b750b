import type { Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { routeLabel } from '../http/route-label.js';
import { parseCookies } from './sessions.js';

/** `__Host-` prefix when Secure: the browser then refuses the cookie from subdomains or over http. */
export const cookieName = (secure: boolean) => (secure ? '__Host-smtp_oauth_session' : 'smtp_oauth_session');

export function isSecureRequest(ctx: AppContext, req: Request): boolean {
  return ctx.cookie.secure === 'auto' ? req.secure : ctx.cookie.secure;
}

export function readSessionToken(ctx: AppContext, req: Request): string | undefined {
  return parseCookies(req.get('cookie')).get(cookieName(isSecureRequest(ctx, req)));
}

export function setSessionCookie(
  ctx: AppContext,
  req: Request,
  res: Response,
  token: string | undefined,
): void {
  const secure = isSecureRequest(ctx, req);
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  const value = token === undefined ? `${cookieName(secure)}=; Max-Age=0` : `${cookieName(secure)}=${token}`;
  res.append('Set-Cookie', [value, ...attrs].join('; '));
}

export interface AdminPrincipal {
  id: string;
  email: string;
}

/** Who is asking, for audit records. */
export function actorOf(res: Response): string {
  const admin = res.locals.admin as AdminPrincipal | undefined;
  if (admin) return `admin:${admin.email}`;
  const apiKey = res.locals.apiKey as { id: string } | undefined;
  return apiKey ? `api-key:${apiKey.id}` : 'anonymous';
}

/**
 * Sent (`1`) by a page's automatic refresh, such as the Outbox page's live updates: not the admin's
 * activity, so it does not extend the session's idle timeout (S11) — a tab left open does not keep
 * its session alive until the absolute timeout.
 */
export const AUTOMATIC_REFRESH_HEADER = 'x-automatic-refresh';

/** Requires a live admin session; records the denial otherwise (S14). */
export function requireAdmin(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    const token = readSessionToken(ctx, req);
    const adminId = token
      ? await ctx.sessions.resolve(token, { activity: req.get(AUTOMATIC_REFRESH_HEADER) !== '1' })
      : undefined;
    const admin = adminId ? await ctx.repos.admins.findById(adminId) : undefined;
    if (!admin) {
      await ctx.audit.recordDenied({
        actor: 'anonymous',
        action: routeLabel(req),
        target: null,
        fields: [],
        address: req.ip ?? null,
      });
      return next(new ApiError(401, 'UNAUTHENTICATED', 'Sign in first', { hint: 'POST /api/auth/login' }));
    }
    res.locals.admin = { id: admin.id, email: admin.email } satisfies AdminPrincipal;
    next();
  };
}
