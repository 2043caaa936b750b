import { Router } from 'express';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { OperationDoc } from './docs.js';

export const healthDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/health',
    summary: 'Liveness and database reachability',
    tag: 'health',
    auth: 'none',
    responses: { '200': { description: 'Healthy' }, '503': { description: 'Database unreachable' } },
  },
];

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    try {
      await sql`select 1`.execute(ctx.store.db);
      res.json({ status: 'ok', database: 'ok' });
    } catch {
      res.status(503).json({ status: 'degraded', database: 'unreachable' });
    }
  });
  return router;
}
