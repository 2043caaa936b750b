import type { AdminResponse } from '@org/core/api';
import { Router } from 'express';
import { actorOf, readSessionToken, requireAdmin, setSessionCookie } from '../auth/admin-session.js';
import { passwordProblem } from '../auth/password-policy.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { parseWith, s } from '../http/validate.js';
import type { OperationDoc } from './docs.js';

const loginBody = s.object({
  email: s.string({ min: 1, max: 254, trim: true }),
  password: s.string({ min: 1, max: 1024 }),
});

const passwordBody = s.object({
  currentPassword: s.string({ min: 1, max: 1024 }),
  newPassword: s.string({ min: 1, max: 1024 }),
});

const adminSchema = {
  type: 'object',
  properties: {
    admin: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' } } },
  },
};

export const authDocs: OperationDoc[] = [
  {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Sign in; sets the session cookie',
    tag: 'auth',
    auth: 'none',
    requestBody: loginBody.jsonSchema,
    responses: {
      '200': { description: 'Signed in', schema: adminSchema },
      '401': { description: 'Wrong email or password' },
      '429': { description: 'Too many failed attempts; see Retry-After' },
    },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    summary: 'Sign out',
    tag: 'auth',
    auth: 'session',
    responses: { '204': { description: 'Signed out' } },
  },
  {
    method: 'post',
    path: '/api/auth/password',
    summary: "Change the signed-in admin's password; every other session of this admin ends",
    tag: 'auth',
    auth: 'session',
    requestBody: passwordBody.jsonSchema,
    responses: {
      '204': { description: 'Changed' },
      '400': { description: 'The new password breaks the policy (issue path `newPassword`)' },
      '403': { description: 'The current password is wrong (issue path `currentPassword`)' },
      '429': { description: 'Too many wrong current passwords; see Retry-After' },
    },
  },
  {
    method: 'get',
    path: '/api/auth/me',
    summary: 'The signed-in admin',
    tag: 'auth',
    auth: 'session',
    responses: {
      '200': { description: 'Signed in', schema: adminSchema },
      '401': { description: 'Not signed in' },
    },
  },
];

export function authRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/login', async (req, res) => {
    const { email, password } = parseWith(loginBody, req.body);
    const address = req.ip ?? 'unknown';
    const tooMany = (retryAfter: number) =>
      new ApiError(429, 'LOGIN_RATE_LIMITED', 'Too many failed sign-in attempts', {
        hint: `Try again in ${retryAfter} seconds`,
        headers: { 'Retry-After': String(retryAfter) },
      });

    const locked = await ctx.limiter.lockedFor(email, address);
    const deny = () =>
      ctx.audit.recordDenied({
        actor: `login:${email.slice(0, 254)}`,
        action: 'auth.login',
        fields: [],
        address,
      });
    if (locked > 0) {
      await deny();
      throw tooMany(locked);
    }
    const attempt = await ctx.limiter.begin(email, address);
    if (!attempt.allowed) {
      await deny();
      throw tooMany(Math.max(attempt.retryAfter, await ctx.limiter.failed(email, address)));
    }
    const admin = await ctx.repos.admins.findByEmail(email);
    // Same work and same answer whether or not the account exists.
    const ok = await verifyPassword(password, admin?.password_hash ?? ctx.dummyHash);
    if (!admin || !ok) {
      const lock = await ctx.limiter.failed(email, address);
      await deny();
      if (lock > 0) throw tooMany(lock);
      throw new ApiError(401, 'INVALID_CREDENTIALS', 'Wrong email or password');
    }
    await ctx.limiter.succeeded(email, address);
    // A fresh session id at every login (no fixation); an earlier session of this browser ends.
    const previous = readSessionToken(ctx, req);
    if (previous) await ctx.sessions.destroy(previous);
    await ctx.repos.sessions.deleteExpired(ctx.now());
    const token = await ctx.sessions.create(admin.id);
    setSessionCookie(ctx, req, res, token);
    await ctx.audit.record({ actor: `admin:${admin.email}`, action: 'auth.login', outcome: 'ok', address });
    res.json({ admin: { id: admin.id, email: admin.email } } satisfies AdminResponse);
  });

  router.post('/logout', async (req, res) => {
    const token = readSessionToken(ctx, req);
    if (token) await ctx.sessions.destroy(token);
    setSessionCookie(ctx, req, res, undefined);
    res.status(204).end();
  });

  router.post('/password', requireAdmin(ctx), async (req, res) => {
    const { currentPassword, newPassword } = parseWith(passwordBody, req.body);
    const me = res.locals.admin as { id: string; email: string };
    const address = req.ip ?? 'unknown';
    const admin = (await ctx.repos.admins.findById(me.id))!;
    // The same limiter as sign-in: a stolen session cannot guess the current password.
    const locked = await ctx.limiter.lockedFor(admin.email, address);
    if (locked > 0)
      throw new ApiError(429, 'LOGIN_RATE_LIMITED', 'Too many failed attempts', {
        hint: `Try again in ${locked} seconds`,
        headers: { 'Retry-After': String(locked) },
      });
    if (!(await verifyPassword(currentPassword, admin.password_hash))) {
      await ctx.limiter.failed(admin.email, address);
      await ctx.audit.recordDenied({
        actor: actorOf(res),
        action: 'admin.password-change',
        fields: [],
        address,
      });
      throw new ApiError(403, 'INVALID_CREDENTIALS', 'The current password is wrong', {
        issues: [{ path: 'currentPassword', message: 'is wrong' }],
      });
    }
    const problem = passwordProblem(newPassword, [admin.email, ...admin.email.split(/[@.]/)]);
    if (problem)
      throw new ApiError(400, 'PASSWORD_POLICY', `The new password ${problem}`, {
        issues: [{ path: 'newPassword', message: problem }],
      });
    await ctx.repos.admins.setPassword(
      admin.id,
      await hashPassword(newPassword, ctx.passwordHashing),
      ctx.now(),
    );
    await ctx.sessions.destroyOthers(admin.id, readSessionToken(ctx, req));
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'admin.password-change',
      target: admin.email,
      fields: ['password'],
      outcome: 'ok',
      address,
    });
    res.status(204).end();
  });

  router.get('/me', requireAdmin(ctx), (_req, res) => {
    res.json({ admin: res.locals.admin } satisfies AdminResponse);
  });

  return router;
}
