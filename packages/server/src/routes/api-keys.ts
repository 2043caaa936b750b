import type { ApiKeyListResponse, ApiKeyView, CreatedApiKeyResponse } from '@org/core/api';
import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import { generateApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { idString, parseIdParam, parseWith, s } from '../http/validate.js';
import {
  type ApiKeyScope,
  fromPatternProblem,
  parseScope,
  sourceRangeProblem,
} from '../auth/api-key-scope.js';
import { newId } from '../store/ids.js';
import type { ApiKeyRow } from '../store/api-keys-repository.js';
import { webhookView } from './api-key-webhooks.js';
import type { OperationDoc } from './docs.js';

const scopeFields = {
  emailServerIds: s.array(idString('an email-server id'), {
    max: 100,
    description: 'Entries the key may send through. @default the default entry when the key is created',
  }),
  allowedFrom: s.array(s.string({ min: 3, max: 320, trim: true }), {
    max: 100,
    description: 'From addresses (noreply@contoso.com) or domains (contoso.com) the key may use; empty: any',
  }),
  allowedSources: s.array(s.string({ min: 2, max: 64, trim: true }), {
    max: 100,
    description: 'Source IP addresses or CIDR ranges the key may be used from; empty: any',
  }),
};
const createBody = s.object({ name: s.string({ min: 1, max: 100, trim: true }), ...scopeFields }, [
  'emailServerIds',
  'allowedFrom',
  'allowedSources',
]);
const scopeBody = s.object(scopeFields, ['allowedFrom', 'allowedSources']);

/** Checks a binding against the stored entries and the pattern rules; throws a 400 naming the field. */
async function checkedScope(
  ctx: AppContext,
  input: { emailServerIds?: string[]; allowedFrom?: string[]; allowedSources?: string[] },
): Promise<ApiKeyScope> {
  const issues: { path: string; message: string }[] = [];
  let ids = input.emailServerIds;
  if (ids === undefined) {
    // A new key defaults to the entry it was created for: the default entry, which it would use.
    const fallback = await ctx.repos.emailServers.getDefault();
    ids = fallback ? [fallback.id] : [];
  }
  for (const [i, id] of ids.entries())
    if (!(await ctx.repos.emailServers.get(id)))
      issues.push({ path: `emailServerIds[${i}]`, message: 'No email server with this id' });
  for (const [i, v] of (input.allowedFrom ?? []).entries()) {
    const problem = fromPatternProblem(v);
    if (problem) issues.push({ path: `allowedFrom[${i}]`, message: problem });
  }
  for (const [i, v] of (input.allowedSources ?? []).entries()) {
    const problem = sourceRangeProblem(v);
    if (problem) issues.push({ path: `allowedSources[${i}]`, message: problem });
  }
  if (issues.length)
    throw new ApiError(400, 'VALIDATION_FAILED', 'The API key binding is invalid', { issues });
  return {
    emailServerIds: [...new Set(ids)],
    allowedFrom: input.allowedFrom ?? [],
    allowedSources: input.allowedSources ?? [],
  };
}

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
    scope: {
      type: ['object', 'null'],
      description: 'The binding; null for a key made before bindings existed (any entry)',
      properties: {
        emailServerIds: { type: 'array', items: { type: 'string' } },
        allowedFrom: { type: 'array', items: { type: 'string' } },
        allowedSources: { type: 'array', items: { type: 'string' } },
      },
    },
    webhook: { description: 'See PUT /api/api-keys/{id}/webhook' },
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
    method: 'put',
    path: '/api/api-keys/{id}/scope',
    summary: "Change a key's binding: entries, From addresses or domains, source ranges",
    tag: 'api-keys',
    auth: 'session',
    requestBody: scopeBody.jsonSchema,
    responses: {
      '200': { description: 'Updated', schema: { type: 'object', properties: { apiKey: apiKeySchema } } },
      '400': { description: 'Invalid binding (issues name the field)' },
      '404': { description: 'No such active key' },
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

/** A new key has no webhook (0008 columns). */
const NO_WEBHOOK = {
  webhook_url: null,
  webhook_secret: null,
  webhook_secret_created_at: null,
  webhook_last_at: null,
  webhook_last_outcome: null,
  webhook_last_http_status: null,
  webhook_last_error: null,
  webhook_last_event_id: null,
} as const;

export const apiKeyView = (r: ApiKeyRow): ApiKeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  scope: parseScope(r.scope_json) ?? null,
  webhook: webhookView(r),
});
const view = apiKeyView;

export function apiKeyRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));

  router.get('/', async (_req, res) => {
    res.json({ apiKeys: (await ctx.repos.apiKeys.list()).map(view) } satisfies ApiKeyListResponse);
  });

  router.post('/', async (req, res) => {
    const { name, ...binding } = parseWith(createBody, req.body);
    const scope = await checkedScope(ctx, binding);
    const { key, prefix, hash } = generateApiKey();
    const row: ApiKeyRow = {
      ...NO_WEBHOOK,
      id: newId(),
      name,
      prefix,
      key_hash: hash,
      created_at: ctx.now().toISOString(),
      created_by: actorOf(res),
      revoked_at: null,
      last_used_at: null,
      scope_json: JSON.stringify(scope),
    };
    await ctx.repos.apiKeys.insert(row);
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'api-key.create',
      target: row.id,
      fields: ['name', 'scope.emailServerIds', 'scope.allowedFrom', 'scope.allowedSources'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(201).json({ apiKey: view(row), key } satisfies CreatedApiKeyResponse);
  });

  router.put('/:id/scope', async (req, res) => {
    const id = parseIdParam(req.params.id, 'active API key');
    const scope = await checkedScope(ctx, parseWith(scopeBody, req.body));
    const before = (await ctx.repos.apiKeys.findById(id))?.scope_json ?? null;
    if (!(await ctx.repos.apiKeys.setScope(id, JSON.stringify(scope))))
      throw new ApiError(404, 'NOT_FOUND', 'No active API key with this id');
    ctx.lookups.apiKeys.clear();
    const old = parseScope(before);
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'api-key.scope',
      target: id,
      fields: (['emailServerIds', 'allowedFrom', 'allowedSources'] as const)
        .filter((f) => JSON.stringify(old?.[f] ?? null) !== JSON.stringify(scope[f]))
        .map((f) => `scope.${f}`),
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.json({ apiKey: view((await ctx.repos.apiKeys.findById(id))!) });
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
