import { Router } from 'express';
import { requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { outboxSummary } from '../outbox/summary.js';
import type { OperationDoc } from './docs.js';

export const outboxDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/outbox/summary',
    summary:
      'The WebAdmin Outbox page: messages by state, the oldest queued age, and per mailbox (the governor’s `host|user`) the entries sending through it, their backlog (queued, sending) and the current use of its limits (connections, messages in the last minute, recipients in 24 h; across every instance with PostgreSQL). State only, never content (admin session)',
    tag: 'messages',
    auth: 'session',
    responses: {
      '200': {
        description:
          '`{ at, counts, oldestQueuedAt, oldestQueuedAgeSeconds, governor, mailboxes: [{ key, host, user, entries, backlog, limits, usage }], withoutEntry }`; `limits`/`usage` null: not governed',
      },
    },
  },
];

/** `/api/outbox`: the outbox as a whole, for the WebAdmin (messages one by one are under /api/messages). */
export function outboxRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/summary', requireAdmin(ctx), async (_req, res) => {
    // Read from the database every time (no per-instance cache): behind a load balancer any
    // instance answers with the same picture.
    res.json(
      await outboxSummary({
        db: ctx.store.db,
        outbox: ctx.outbox,
        governor: ctx.governor,
        governorScope: ctx.store.sqliteFile === undefined ? 'shared' : 'process',
        entries: await ctx.repos.emailServers.list(),
        now: ctx.now(),
      }),
    );
  });
  return router;
}
