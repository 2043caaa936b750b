import type { AuditEntry, LogPage, SentLogEntry } from '@org/core/api';
import { Router } from 'express';
import { requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { idString, parseWith, s } from '../http/validate.js';
import type { OperationDoc } from './docs.js';

const pageQuery = s.object(
  {
    limit: s.integer({ min: 1, max: 500, fromString: true }),
    before: idString('an id from the previous page'),
  },
  ['limit', 'before'],
);
const sentQuery = s.object(
  {
    limit: s.integer({ min: 1, max: 500, fromString: true }),
    before: idString('an id from the previous page'),
    serverId: idString('an email server id'),
  },
  ['limit', 'before', 'serverId'],
);

const queryParams = (schema: { jsonSchema: Record<string, unknown> }) =>
  (schema.jsonSchema.properties ?? {}) as Record<string, Record<string, unknown>>;

export const logDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/audit',
    summary: 'Audit log, newest first: who, what, which fields (never values)',
    tag: 'logs',
    auth: 'session',
    query: queryParams(pageQuery),
    responses: { '200': { description: 'Entries' } },
  },
  {
    method: 'get',
    path: '/api/sent-log',
    summary:
      'Sent-message log, newest first (no bodies or addresses): a view of the outbox’s finished messages (`unknown` shows as failed with its code)',
    tag: 'logs',
    auth: 'session',
    query: queryParams(sentQuery),
    responses: { '200': { description: 'Entries' } },
  },
];

export function logRoutes(ctx: AppContext): Router {
  const router = Router();
  // Per route, not router.use: this router is mounted at /api and must not guard other paths.
  router.get('/audit', requireAdmin(ctx), async (req, res) => {
    const q = parseWith(pageQuery, { ...req.query }, 'query');
    const entries = await ctx.repos.audit.list({ limit: q.limit ?? 100, before: q.before });
    res.json({
      entries,
      next: entries.length === (q.limit ?? 100) ? (entries.at(-1)?.id ?? null) : null,
    } satisfies LogPage<AuditEntry>);
  });
  router.get('/sent-log', requireAdmin(ctx), async (req, res) => {
    const q = parseWith(sentQuery, { ...req.query }, 'query');
    const entries = await ctx.repos.sentLog.list({
      limit: q.limit ?? 100,
      before: q.before,
      serverId: q.serverId,
    });
    res.json({
      entries,
      next: entries.length === (q.limit ?? 100) ? (entries.at(-1)?.id ?? null) : null,
    } satisfies LogPage<SentLogEntry>);
  });
  return router;
}
