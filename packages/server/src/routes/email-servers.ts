import { emailServerConfigSchema } from '@org/core/config';
import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { createEmailServer, storedWarnings, toView, updateEmailServer } from '../email-servers.js';
import { ApiError } from '../http/errors.js';
import { parseIdParam } from '../http/validate.js';
import type { OperationDoc } from './docs.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const one = { type: 'object', properties: { emailServer: ref('EmailServer'), warnings: { type: 'array' } } };

export const emailServerDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/email-servers',
    summary: 'List email servers (secrets are never returned)',
    tag: 'email-servers',
    auth: 'session',
    responses: {
      '200': {
        description: 'Entries',
        schema: {
          type: 'object',
          properties: { emailServers: { type: 'array', items: ref('EmailServer') } },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/api/email-servers',
    summary: 'Create an email server',
    tag: 'email-servers',
    auth: 'session',
    requestBody: ref('EmailServerConfigInput'),
    responses: {
      '201': { description: 'Created', schema: one },
      '409': { description: 'Name already used' },
    },
  },
  {
    method: 'get',
    path: '/api/email-servers/{id}',
    summary: 'One email server',
    tag: 'email-servers',
    auth: 'session',
    responses: { '200': { description: 'Entry', schema: one }, '404': { description: 'Not found' } },
  },
  {
    method: 'put',
    path: '/api/email-servers/{id}',
    summary: 'Replace an email server; omitted secrets keep their stored values',
    tag: 'email-servers',
    auth: 'session',
    requestBody: ref('EmailServerConfigInput'),
    responses: { '200': { description: 'Updated', schema: one }, '404': { description: 'Not found' } },
  },
  {
    method: 'delete',
    path: '/api/email-servers/{id}',
    summary: 'Delete an email server',
    tag: 'email-servers',
    auth: 'session',
    responses: { '204': { description: 'Deleted' }, '404': { description: 'Not found' } },
  },
  {
    method: 'post',
    path: '/api/email-servers/{id}/default',
    summary: 'Make this entry the default for the send API',
    tag: 'email-servers',
    auth: 'session',
    responses: { '200': { description: 'Updated', schema: one }, '404': { description: 'Not found' } },
  },
];

/** Component schemas for the OpenAPI document, generated from core's zod schema. */
export function emailServerSchemas(): Record<string, unknown> {
  const { $schema: _drop, ...input } = emailServerConfigSchema.toJSONSchema({
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    EmailServerConfigInput: {
      ...input,
      description:
        'Validated by @org/core. On update, secret fields may be omitted to keep the stored values.',
    },
    EmailServer: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        isDefault: { type: 'boolean' },
        config: { type: 'object', description: 'The entry with secrets replaced by "set" flags' },
        clientSecretSet: { type: 'boolean' },
        passwordSet: { type: 'boolean' },
        certificate: {
          type: ['object', 'null'],
          properties: {
            subject: { type: 'string' },
            thumbprintSha1: { type: 'string' },
            thumbprintSha256: { type: 'string' },
            notAfter: { type: 'string', format: 'date-time' },
            expiresInDays: { type: 'integer' },
          },
        },
        lastTest: { type: ['object', 'null'] },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  };
}

const idParam = (raw: string | undefined) => parseIdParam(raw, 'email server');

export function emailServerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));

  router.get('/', async (_req, res) => {
    const now = ctx.now();
    res.json({ emailServers: (await ctx.repos.emailServers.list()).map((r) => toView(r, now)) });
  });

  router.post('/', async (req, res) => {
    res.status(201).json(await createEmailServer(ctx, req.body, actorOf(res), req.ip ?? null));
  });

  router.get('/:id', async (req, res) => {
    const record = await ctx.repos.emailServers.get(idParam(req.params.id));
    if (!record) throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    res.json({ emailServer: toView(record, ctx.now()), warnings: storedWarnings(record) });
  });

  router.put('/:id', async (req, res) => {
    res.json(await updateEmailServer(ctx, idParam(req.params.id), req.body, actorOf(res), req.ip ?? null));
  });

  router.delete('/:id', async (req, res) => {
    const id = idParam(req.params.id);
    if (!(await ctx.repos.emailServers.delete(id)))
      throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'email-server.delete',
      target: id,
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(204).end();
  });

  router.post('/:id/default', async (req, res) => {
    const id = idParam(req.params.id);
    if (!(await ctx.repos.emailServers.setDefault(id)))
      throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'email-server.set-default',
      target: id,
      fields: ['isDefault'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    const record = (await ctx.repos.emailServers.get(id))!;
    res.json({ emailServer: toView(record, ctx.now()), warnings: storedWarnings(record) });
  });

  return router;
}
