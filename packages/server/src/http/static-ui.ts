import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type RequestHandler, Router } from 'express';

/**
 * Serves the built admin UI with an SPA fallback: any GET outside /api that is not a file gets
 * index.html, so client-side routes survive a reload.
 */
export function adminUi(dir: string | undefined): Router {
  const router = Router();
  const index = dir ? join(dir, 'index.html') : undefined;
  if (!dir || !index || !existsSync(index)) {
    router.get('/', (_req, res) => {
      res
        .status(503)
        .type('text/plain')
        .send(
          'The admin UI is not built. Run `pnpm --filter @org/admin-ui build`, or use the API under /api.',
        );
    });
    return router;
  }
  router.use(express.static(dir, { index: false, fallthrough: true, maxAge: '1h', redirect: false }));
  const fallback: RequestHandler = (req, res, next) => {
    if (
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      req.path === '/api' ||
      req.path.startsWith('/api/')
    )
      return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  router.use(fallback);
  return router;
}
