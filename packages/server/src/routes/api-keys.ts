import type { ApiKeyListResponse, ApiKeyView, CreatedApiKeyResponse } from '@org/core/api';
import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import { generateApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { parseIdParam, parseWith, s } from '../http/validate.js';
import { newId } from '../store/ids.js';
import type { ApiKeyRow } from '../store/api-keys-repository.js';
import type { OperationDoc } from './docs.js';

const createBody = s.object({ name: s.string({ min: 1, max: 100, trim: true }) });

const apiKeySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    prefix: { type: 'string', description: 'The first characters of the key, to recognise it' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

export const apiKeyDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/api-keys',
    summary: 'List API keys (never the keys themselves)',
    tag: 'api-keys',
    auth: 'session',
    responses: {
      '200': {
        description: 'Keys',
        schema: { type: 'object', properties: { apiKeys: { type: 'array', items: apiKeySchema } } },
      },
    },
  },
  {
    method: 'post',
    path: '/api/api-keys',
    summary: 'Create an API key; the key is in this response only',
    tag: 'api-keys',
    auth: 'session',
    requestBody: createBody.jsonSchema,
    responses: {
      '201': {
        description: 'Created',
        schema: {
          type: 'object',
          properties: { apiKey: apiKeySchema, key: { type: 'string', description: 'Shown once' } },
        },
      },
    },
  },
  {
    method: 'delete',
    path: '/api/api-keys/{id}',
    summary: 'Revoke an API key',
    tag: 'api-keys',
    auth: 'session',
    responses: { '204': { description: 'Revoked' }, '404': { description: 'No such active key' } },
  },
];

const view = (r: ApiKeyRow): ApiKeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

export function apiKeyRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));

  router.get('/', async (_req, res) => {
    res.json({ apiKeys: (await ctx.repos.apiKeys.list()).map(view) } satisfies ApiKeyListResponse);
  });

  router.post('/', async (req, res) => {
    const { name } = parseWith(createBody, req.body);
    const { key, prefix, hash } = generateApiKey();
    const row: ApiKeyRow = {
      id: newId(),
      name,
      prefix,
      key_hash: hash,
      created_at: ctx.now().toISOString(),
      created_by: actorOf(res),
      revoked_at: null,
      last_used_at: null,
    };
    await ctx.repos.apiKeys.insert(row);
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'api-key.create',
      target: row.id,
      fields: ['name'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(201).json({ apiKey: view(row), key } satisfies CreatedApiKeyResponse);
  });

  router.delete('/:id', async (req, res) => {
    const id = parseIdParam(req.params.id, 'active API key');
    const revoked = await ctx.repos.apiKeys.revoke(id, ctx.now());
    ctx.lookups.apiKeys.clear();
    if (!revoked) {
      throw new ApiError(404, 'NOT_FOUND', 'No active API key with this id');
    }
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'api-key.revoke',
      target: id,
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(204).end();
  });

  return router;
}
