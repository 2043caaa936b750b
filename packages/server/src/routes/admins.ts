import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import { generatePassword, hashPassword } from '../auth/passwords.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { parseIdParam, parseWith, s } from '../http/validate.js';
import type { AdminRow } from '../store/admins-repository.js';
import type { OperationDoc } from './docs.js';

const inviteBody = s.object({
  email: s.string({
    min: 3,
    max: 254,
    trim: true,
    pattern: /^[^\s@]+@[^\s@]+$/,
    description: 'an email address',
  }),
});

const adminView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export const adminDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/admins',
    summary: 'List admins',
    tag: 'auth',
    auth: 'session',
    responses: {
      '200': {
        description: 'Admins',
        schema: { type: 'object', properties: { admins: { type: 'array', items: adminView } } },
      },
    },
  },
  {
    method: 'post',
    path: '/api/admins',
    summary: 'Invite an admin: creates the account with a one-time password, in this response only',
    tag: 'auth',
    auth: 'session',
    requestBody: inviteBody.jsonSchema,
    responses: {
      '201': {
        description: 'Created',
        schema: { type: 'object', properties: { admin: adminView, oneTimePassword: { type: 'string' } } },
      },
      '409': { description: 'An admin with this email exists' },
    },
  },
  {
    method: 'delete',
    path: '/api/admins/{id}',
    summary: 'Remove an admin (not yourself, not the last one); their sessions end',
    tag: 'auth',
    auth: 'session',
    responses: {
      '204': { description: 'Removed' },
      '404': { description: 'No such admin' },
      '409': { description: 'Yourself or the last admin' },
    },
  },
];

const view = (a: AdminRow) => ({ id: a.id, email: a.email, createdAt: a.created_at });

/** Several admins (issue 13 §4): invite and remove, each audited with who did it. */
export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));

  router.get('/', async (_req, res) => {
    res.json({ admins: (await ctx.repos.admins.list()).map(view) });
  });

  router.post('/', async (req, res) => {
    const { email } = parseWith(inviteBody, req.body);
    if (await ctx.repos.admins.findByEmail(email))
      throw new ApiError(409, 'ADMIN_EXISTS', 'An admin with this email exists', {
        issues: [{ path: 'email', message: 'is already an admin' }],
      });
    // A generated one-time password, handed over once; the new admin changes it under Account.
    const oneTimePassword = generatePassword();
    const admin = await ctx.repos.admins.create({
      email,
      passwordHash: await hashPassword(oneTimePassword, ctx.passwordHashing),
      at: ctx.now(),
    });
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'admin.invite',
      target: admin.email,
      fields: ['email', 'password'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(201).json({ admin: view(admin), oneTimePassword });
  });

  router.delete('/:id', async (req, res) => {
    const id = parseIdParam(req.params.id, 'admin');
    const me = res.locals.admin as { id: string };
    const target = await ctx.repos.admins.findById(id);
    if (!target) throw new ApiError(404, 'NOT_FOUND', 'No admin with this id');
    if (target.id === me.id)
      throw new ApiError(409, 'ADMIN_SELF_REMOVE', 'You cannot remove yourself', {
        hint: 'Ask another admin to remove your account',
      });
    if ((await ctx.repos.admins.count()) <= 1)
      throw new ApiError(409, 'ADMIN_LAST', 'The last admin cannot be removed');
    await ctx.repos.admins.delete(id);
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'admin.remove',
      target: target.email,
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(204).end();
  });
  return router;
}
