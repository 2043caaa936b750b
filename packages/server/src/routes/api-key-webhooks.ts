import type {
  ApiKeyWebhookView,
  WebhookDeliveryOutcome,
  WebhookDeliveryView,
  WebhookSecretResponse,
  WebhookTestResponse,
} from '@org/core/api';
import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { parseIdParam, parseWith, s } from '../http/validate.js';
import type { ApiKeyRow } from '../store/api-keys-repository.js';
import type { WebhookDeliveryRow } from '../webhooks/dispatcher.js';
import { generateWebhookSecret, sealWebhookSecret } from '../webhooks/secret.js';
import { checkWebhookTarget } from '../webhooks/target.js';
import type { OperationDoc } from './docs.js';

const webhookBody = s.object(
  { url: s.string({ min: 1, max: 2000, trim: true, description: 'an absolute https URL' }) },
  [],
);

/** The webhook part of an API key's view: never the secret. */
export function webhookView(r: ApiKeyRow): ApiKeyWebhookView | null {
  if (!r.webhook_url) return null;
  return {
    url: r.webhook_url,
    secretSet: r.webhook_secret !== null,
    secretCreatedAt: r.webhook_secret_created_at,
    lastDelivery: r.webhook_last_at
      ? {
          at: r.webhook_last_at,
          outcome: r.webhook_last_outcome as WebhookDeliveryOutcome,
          httpStatus: r.webhook_last_http_status === null ? null : Number(r.webhook_last_http_status),
          error: r.webhook_last_error,
          eventId: r.webhook_last_event_id,
        }
      : null,
  };
}

const deliveryView = (r: WebhookDeliveryRow): WebhookDeliveryView => ({
  id: r.id,
  type: r.event_type,
  messageOutboxId: r.outbox_id,
  status: r.status as WebhookDeliveryView['status'],
  attempts: Number(r.attempts),
  httpStatus: r.last_http_status === null ? null : Number(r.last_http_status),
  error: r.last_error,
  createdAt: r.created_at,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  finishedAt: r.finished_at,
});

const webhookSchema = {
  type: ['object', 'null'],
  description: 'The webhook for final message states; null when none is set. Never the secret.',
  properties: {
    url: { type: 'string' },
    secretSet: { type: 'boolean' },
    secretCreatedAt: { type: ['string', 'null'], format: 'date-time' },
    lastDelivery: {
      type: ['object', 'null'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        outcome: { enum: ['delivered', 'retrying', 'failed', 'dropped'] },
        httpStatus: { type: ['integer', 'null'] },
        error: { type: ['string', 'null'], description: 'WEBHOOK_HTTP_STATUS, WEBHOOK_TIMEOUT, …' },
        eventId: { type: ['string', 'null'] },
      },
    },
  },
};
const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The webhook-id header of the event' },
    type: { type: 'string' },
    messageOutboxId: { type: ['string', 'null'] },
    status: { enum: ['pending', 'delivering', 'delivered', 'failed', 'dropped'] },
    attempts: { type: 'integer' },
    httpStatus: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};
const secretAnswer = {
  type: 'object',
  properties: {
    apiKey: { type: 'object', properties: { webhook: webhookSchema } },
    secret: {
      type: 'string',
      description: 'whsec_… (Standard Webhooks). Only when just generated; shown once, never again',
    },
  },
};

export const apiKeyWebhookDocs: OperationDoc[] = [
  {
    method: 'put',
    path: '/api/api-keys/{id}/webhook',
    summary:
      "Set a key's webhook URL. Events (message.sent, message.failed, message.unknown, message.cancelled) are POSTed there, signed per Standard Webhooks; the first set generates the signing secret, returned once",
    tag: 'api-keys',
    auth: 'session',
    requestBody: webhookBody.jsonSchema,
    responses: {
      '200': { description: 'Set', schema: secretAnswer },
      '400': {
        description:
          'WEBHOOK_URL_INVALID (not https, user name in the URL), WEBHOOK_URL_NOT_ALLOWED (a private, loopback, link-local or metadata address) or WEBHOOK_URL_UNRESOLVABLE; the issue names `url`',
      },
      '404': { description: 'No such active key' },
    },
  },
  {
    method: 'delete',
    path: '/api/api-keys/{id}/webhook',
    summary: "Remove a key's webhook and its secret; events not yet delivered are dropped",
    tag: 'api-keys',
    auth: 'session',
    responses: { '204': { description: 'Removed' }, '404': { description: 'The key has no webhook' } },
  },
  {
    method: 'post',
    path: '/api/api-keys/{id}/webhook/secret',
    summary: 'Rotate the signing secret: a new one is generated and returned once; the old one stops at once',
    tag: 'api-keys',
    auth: 'session',
    responses: {
      '200': { description: 'Rotated', schema: secretAnswer },
      '409': { description: 'WEBHOOK_NOT_SET' },
    },
  },
  {
    method: 'post',
    path: '/api/api-keys/{id}/webhook/test',
    summary: 'Send a signed webhook.test event now (tried once) and answer with its delivery',
    tag: 'api-keys',
    auth: 'session',
    responses: {
      '200': {
        description: 'The delivery, delivered or failed (error and httpStatus say why)',
        schema: { type: 'object', properties: { delivery: deliverySchema } },
      },
      '409': { description: 'WEBHOOK_NOT_SET' },
    },
  },
  {
    method: 'get',
    path: '/api/api-keys/{id}/webhook/deliveries',
    summary: "The key's newest webhook events and their delivery state (never the payload)",
    tag: 'api-keys',
    auth: 'session',
    responses: {
      '200': {
        description: 'Newest first, at most 20',
        schema: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } },
      },
    },
  },
];

/** The webhook routes under `/api/api-keys/{id}/webhook` (admin session). */
export function apiKeyWebhookRoutes(
  ctx: AppContext,
  view: (row: ApiKeyRow) => WebhookSecretResponse['apiKey'],
): Router {
  const router = Router();
  router.use('/:id/webhook', requireAdmin(ctx));

  const activeKey = async (raw: string | undefined): Promise<ApiKeyRow> => {
    const id = parseIdParam(raw, 'active API key');
    const row = await ctx.repos.apiKeys.findById(id);
    if (!row || row.revoked_at) throw new ApiError(404, 'NOT_FOUND', 'No active API key with this id');
    return row;
  };
  const withWebhook = async (raw: string | undefined): Promise<ApiKeyRow> => {
    const row = await activeKey(raw);
    if (!row.webhook_url)
      throw new ApiError(409, 'WEBHOOK_NOT_SET', 'This API key has no webhook', {
        hint: 'Set a webhook URL first (PUT /api/api-keys/{id}/webhook)',
      });
    return row;
  };
  const newSecret = (id: string) => {
    const secret = generateWebhookSecret();
    return { secret, secretEnvelope: sealWebhookSecret(ctx.keyRing, id, secret) };
  };
  const audit = (
    req: { ip?: string | undefined },
    res: Parameters<typeof actorOf>[0],
    target: string,
    action: string,
    fields: string[],
  ) =>
    ctx.audit.record({ actor: actorOf(res), action, target, fields, outcome: 'ok', address: req.ip ?? null });

  router.put('/:id/webhook', async (req, res) => {
    const row = await activeKey(req.params.id);
    const { url } = parseWith(webhookBody, req.body);
    await checkWebhookTarget(url, 'url', ctx.webhookPolicy);
    const fresh = row.webhook_secret ? undefined : newSecret(row.id);
    const at = ctx.now().toISOString();
    await ctx.repos.apiKeys.setWebhook(row.id, {
      url,
      ...(fresh ? { secretEnvelope: fresh.secretEnvelope, secretCreatedAt: at } : {}),
    });
    await audit(
      req,
      res,
      row.id,
      'api-key.webhook.set',
      fresh ? ['webhook.url', 'webhook.secret'] : ['webhook.url'],
    );
    const updated = (await ctx.repos.apiKeys.findById(row.id))!;
    res.json({
      apiKey: view(updated),
      ...(fresh ? { secret: fresh.secret } : {}),
    } satisfies WebhookSecretResponse);
  });

  router.delete('/:id/webhook', async (req, res) => {
    const id = parseIdParam(req.params.id, 'API key');
    if (!(await ctx.repos.apiKeys.clearWebhook(id)))
      throw new ApiError(404, 'NOT_FOUND', 'No API key with a webhook has this id');
    await audit(req, res, id, 'api-key.webhook.remove', ['webhook.url', 'webhook.secret']);
    res.status(204).end();
  });

  router.post('/:id/webhook/secret', async (req, res) => {
    const row = await withWebhook(req.params.id);
    const fresh = newSecret(row.id);
    await ctx.repos.apiKeys.setWebhook(row.id, {
      url: row.webhook_url!,
      secretEnvelope: fresh.secretEnvelope,
      secretCreatedAt: ctx.now().toISOString(),
    });
    await audit(req, res, row.id, 'api-key.webhook.rotate-secret', ['webhook.secret']);
    const updated = (await ctx.repos.apiKeys.findById(row.id))!;
    res.json({ apiKey: view(updated), secret: fresh.secret } satisfies WebhookSecretResponse);
  });

  router.post('/:id/webhook/test', async (req, res) => {
    const row = await withWebhook(req.params.id);
    const eventId = await ctx.webhooks.enqueueTest(row.id);
    await audit(req, res, row.id, 'api-key.webhook.test', []);
    // The test event goes through the same queue as real events; wait for its one attempt.
    const deadline = Date.now() + ctx.webhooks.timeoutMs + 10_000;
    let delivery = await ctx.webhooks.getDelivery(eventId);
    while (
      delivery &&
      (delivery.status === 'pending' || delivery.status === 'delivering') &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      delivery = await ctx.webhooks.getDelivery(eventId);
    }
    if (!delivery) throw new ApiError(404, 'NOT_FOUND', 'The test event was removed with the webhook');
    res.json({ delivery: deliveryView(delivery) } satisfies WebhookTestResponse);
  });

  router.get('/:id/webhook/deliveries', async (req, res) => {
    const id = parseIdParam(req.params.id, 'API key');
    res.json({ deliveries: (await ctx.webhooks.listDeliveries(id)).map(deliveryView) });
  });

  return router;
}
