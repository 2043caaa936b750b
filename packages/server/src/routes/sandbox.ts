import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { PRACTICE_FILES, type PracticeFileName } from '../sandbox.js';
import type { OperationDoc } from './docs.js';

export const sandboxDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/sandbox/practice',
    summary: "Sandbox mode only: the fake tenant's ids and the practice files, to rehearse creating an entry",
    tag: 'sandbox',
    auth: 'session',
    responses: {
      '200': {
        description: 'Tenant ID, client ID, mailbox, scope, endpoints, thumbprints, PFX passphrase, files',
      },
      '404': { description: 'Not in sandbox mode' },
    },
  },
  {
    method: 'post',
    path: '/api/sandbox/practice/client-secret',
    summary: 'Sandbox mode only: a new client secret on the sandbox app, shown once (as in the Entra portal)',
    tag: 'sandbox',
    auth: 'session',
    responses: {
      '201': { description: 'id, value, expiresAt' },
      '404': { description: 'Not in sandbox mode' },
    },
  },
  {
    method: 'get',
    path: '/api/sandbox/practice/files/{name}',
    summary:
      'Sandbox mode only: certificate.pem, private-key.pem, certificate.pfx or ca.pem of the sandbox app',
    tag: 'sandbox',
    auth: 'session',
    responses: {
      '200': { description: 'The file' },
      '404': { description: 'Not in sandbox mode, or no such file' },
    },
  },
];

/** The practice panel's routes; every one answers 404 outside sandbox mode. */
export function sandboxRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));
  const practice = () => {
    if (!ctx.practice)
      throw new ApiError(404, 'NOT_SANDBOX', 'Practice credentials exist only in sandbox mode', {
        hint: 'Start the server with --sandbox (pnpm sandbox) to rehearse with a fake tenant',
      });
    return ctx.practice;
  };

  router.get('/practice', (_req, res) => {
    res.json(practice().facts());
  });

  router.post('/practice/client-secret', async (_req, res) => {
    const secret = practice().newClientSecret();
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'sandbox.client-secret.create',
      target: secret.id,
      fields: [],
      outcome: 'ok',
      address: res.req.ip ?? null,
    });
    res.status(201).json(secret);
  });

  router.get('/practice/files/:name', (req, res) => {
    const source = practice();
    const name = String(req.params.name);
    if (!Object.hasOwn(PRACTICE_FILES, name))
      throw new ApiError(404, 'NOT_FOUND', `No practice file ${name}`, {
        hint: `One of ${Object.keys(PRACTICE_FILES).join(', ')}`,
      });
    const file = name as PracticeFileName;
    res.setHeader('Content-Type', PRACTICE_FILES[file].type);
    res.setHeader('Content-Disposition', `attachment; filename="sandbox-${file}"`);
    res.send(source.file(file));
  });
  return router;
}
