import type { AuditEntry, LogPage, SentLogEntry } from '@org/core/api';
import { Router } from 'express';
import { requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { idString, parseWith, s } from '../http/validate.js';
import type { OperationDoc } from './docs.js';

const auditQuery = s.object(
  {
    limit: s.integer({ min: 1, max: 500, fromString: true }),
    before: idString('an id from the previous page'),
    actor: s.string({ min: 1, max: 300, description: 'exactly, e.g. admin:ops@contoso.com' }),
    action: s.string({ min: 1, max: 200, description: 'exactly, e.g. email-server.update' }),
    target: s.string({ min: 1, max: 300, description: 'exactly, e.g. an entry id' }),
  },
  ['limit', 'before', 'actor', 'action', 'target'],
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
    summary:
      'Audit log, newest first: who, what, which fields (never values); filter by actor, action, target',
    tag: 'logs',
    auth: 'session',
    query: queryParams(auditQuery),
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

/** Names beside ids: the entry or API key a record's target names, when it still exists. */
async function withTargetNames(ctx: AppContext, entries: AuditEntry[]): Promise<AuditEntry[]> {
  const names = new Map<string, string>();
  for (const r of await ctx.repos.emailServers.list()) names.set(r.id, r.name);
  for (const k of await ctx.repos.apiKeys.list()) names.set(k.id, k.name);
  return entries.map((e) => {
    const name = e.target ? names.get(e.target) : undefined;
    return name ? { ...e, targetName: name } : e;
  });
}

export function logRoutes(ctx: AppContext): Router {
  const router = Router();
  // Per route, not router.use: this router is mounted at /api and must not guard other paths.
  router.get('/audit', requireAdmin(ctx), async (req, res) => {
    const q = parseWith(auditQuery, { ...req.query }, 'query');
    await ctx.audit.flush();
    const entries = await withTargetNames(
      ctx,
      await ctx.repos.audit.list({
        limit: q.limit ?? 100,
        before: q.before,
        actor: q.actor,
        action: q.action,
        target: q.target,
      }),
    );
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
