import { type RequestHandler, Router } from 'express';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { shuttingDown } from '../outbox/outbox.js';
import type { OperationDoc } from './docs.js';

export const healthDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/health',
    summary:
      'Liveness: the process answers (no dependency is checked, so a database outage does not restart it)',
    tag: 'health',
    auth: 'none',
    responses: { '200': { description: 'Alive' } },
  },
  {
    method: 'get',
    path: '/api/ready',
    summary:
      'Readiness: the database is reachable, the mailer thread answers, and the outbox claims messages; 503 with the failing checks otherwise (also while shutting down)',
    tag: 'health',
    auth: 'none',
    responses: {
      '200': { description: 'Ready' },
      '503': { description: 'Not ready: `checks` names what failed' },
    },
  },
];

/** While the server drains (SIGTERM), every API call but health/ready answers 503 with Retry-After. */
export function drainingGuard(ctx: AppContext): RequestHandler {
  return (req, _res, next) => {
    const state = ctx.outbox?.status().state;
    if ((state === 'draining' || state === 'stopped') && req.path !== '/health' && req.path !== '/ready')
      return next(shuttingDown());
    next();
  };
}

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const checks: Record<string, 'ok' | 'failed'> = {};
    try {
      await sql`select 1`.execute(ctx.store.db);
      checks.database = 'ok';
    } catch {
      checks.database = 'failed';
    }
    checks.mailerThread = (await ctx.runtimes.alive()) ? 'ok' : 'failed';
    checks.outbox = ctx.outbox.status().claimable ? 'ok' : 'failed';
    const ready = Object.values(checks).every((c) => c === 'ok');
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  });
  return router;
}
