import { Router, type RequestHandler } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import { requireApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { idString, parseIdParam, parseWith, s } from '../http/validate.js';
import { OUTBOX_STATUSES } from '../outbox/driver.js';
import type { OutboxMessage, OutboxStatus } from '../outbox/types.js';
import type { OperationDoc } from './docs.js';

const STATUS = new RegExp(`^(${OUTBOX_STATUSES.join('|')})$`);
const listQuery = s.object(
  {
    status: s.string({
      min: 1,
      max: 20,
      pattern: STATUS,
      description: `one of ${OUTBOX_STATUSES.join(', ')}`,
    }),
    entryId: idString('an email server id'),
    limit: s.integer({ min: 1, max: 500, fromString: true }),
    before: idString('an id from the previous page'),
  },
  ['status', 'entryId', 'limit', 'before'],
);

const queryParams = (schema: { jsonSchema: Record<string, unknown> }) =>
  (schema.jsonSchema.properties ?? {}) as Record<string, Record<string, unknown>>;

const both = 'admin session, or the API key that submitted the message';

export const messageDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/messages',
    summary: `Outbox messages, newest first, filtered by \`status\` and \`entryId\`, paged by \`before\` (${both}: a key sees its own messages only). State and outcome only, never content.`,
    tag: 'messages',
    auth: 'session',
    query: queryParams(listQuery),
    responses: { '200': { description: '`{ messages, next }`' }, '400': { description: 'Bad filter' } },
  },
  {
    method: 'get',
    path: '/api/messages/{id}',
    summary: `One message: status (queued, sending, sent, failed, unknown, cancelled), last code, hint and reply, and every attempt (time, outcome, code, reply) (${both})`,
    tag: 'messages',
    auth: 'session',
    responses: {
      '200': { description: '`{ message, attempts }`' },
      '404': { description: 'No such message' },
    },
  },
  {
    method: 'post',
    path: '/api/messages/{id}/cancel',
    summary: `Cancels a queued message (${both})`,
    tag: 'messages',
    auth: 'session',
    responses: {
      '200': { description: 'Cancelled: `{ message }`' },
      '404': { description: 'No such message' },
      '409': { description: '`MESSAGE_NOT_QUEUED`: already in flight or finished' },
    },
  },
  {
    method: 'post',
    path: '/api/messages/{id}/retry',
    summary:
      'Sends a failed, unknown or cancelled message again, with the same Message-ID (admin session: an operator decides that a possible duplicate is acceptable)',
    tag: 'messages',
    auth: 'session',
    responses: {
      '200': { description: 'Queued again: `{ message }`' },
      '404': { description: 'No such message' },
      '409': { description: '`MESSAGE_NOT_RETRYABLE`: queued, in flight, sent, or without stored content' },
    },
  },
];

/** An admin session, or — when an `Authorization: Bearer` header is sent — an API key. */
function adminOrApiKey(ctx: AppContext): RequestHandler {
  const admin = requireAdmin(ctx);
  const key = requireApiKey(ctx);
  return (req, res, next) => (req.get('authorization') ? key(req, res, next) : admin(req, res, next));
}

/** An API key sees only what it submitted; other messages do not exist for it (404, not 403). */
function visible(res: { locals: Record<string, unknown> }, message: OutboxMessage | undefined) {
  const apiKey = res.locals.apiKey as { id: string } | undefined;
  if (!message || (apiKey && (message.source.kind !== 'api' || message.source.id !== apiKey.id)))
    throw new ApiError(404, 'NOT_FOUND', 'No message with this id');
  return message;
}

/** `/api/messages`: the outbox, read and steered. */
export function messageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/messages', adminOrApiKey(ctx), async (req, res) => {
    const q = parseWith(listQuery, { ...req.query }, 'query');
    const limit = q.limit ?? 100;
    const apiKey = res.locals.apiKey as { id: string } | undefined;
    const messages = (
      await ctx.outbox.list({
        limit,
        status: q.status as OutboxStatus | undefined,
        entryId: q.entryId,
        before: q.before,
        ...(apiKey ? { sourceId: apiKey.id } : {}),
      })
    ).filter((m) => !apiKey || (m.source.kind === 'api' && m.source.id === apiKey.id));
    res.json({ messages, next: messages.length === limit ? (messages.at(-1)?.id ?? null) : null });
  });
  router.get('/messages/:id', adminOrApiKey(ctx), async (req, res) => {
    const id = parseIdParam(req.params.id as string | undefined, 'message');
    const found = await ctx.outbox.get(id);
    visible(res, found?.message);
    res.json(found);
  });
  router.post('/messages/:id/cancel', adminOrApiKey(ctx), async (req, res) => {
    const id = parseIdParam(req.params.id as string | undefined, 'message');
    const found = visible(res, (await ctx.outbox.get(id))?.message);
    if (!(await ctx.outbox.cancel(id)))
      throw new ApiError(
        409,
        'MESSAGE_NOT_QUEUED',
        `The message is ${found.status}; only queued messages can be cancelled`,
      );
    res.json({ message: (await ctx.outbox.get(id))?.message });
  });
  router.post('/messages/:id/retry', requireAdmin(ctx), async (req, res) => {
    const id = parseIdParam(req.params.id as string | undefined, 'message');
    const found = visible(res, (await ctx.outbox.get(id))?.message);
    if (!(await ctx.outbox.retry(id)))
      throw new ApiError(
        409,
        'MESSAGE_NOT_RETRYABLE',
        `The message is ${found.status}; only failed, unknown or cancelled messages with stored content can be sent again`,
      );
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'message.retry',
      target: id,
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.json({ message: (await ctx.outbox.get(id))?.message });
  });
  return router;
}
