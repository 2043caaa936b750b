import { deniedRateLimit } from './http/denied-rate-limit.js';
import { jsonLimits } from './http/json-limits.js';
import express, { type Express } from 'express';
import { csrfGuard } from './auth/csrf.js';
import type { AppContext } from './context.js';
import { errorHandler, notFoundApi } from './http/errors.js';
import { routeLabel } from './http/route-label.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { adminUi } from './http/static-ui.js';
import { adminDocs, adminRoutes } from './routes/admins.js';
import { apiKeyDocs, apiKeyRoutes, apiKeyView } from './routes/api-keys.js';
import { apiKeyWebhookDocs, apiKeyWebhookRoutes } from './routes/api-key-webhooks.js';
import { authDocs, authRoutes } from './routes/auth.js';
import type { OperationDoc } from './routes/docs.js';
import { emailServerDocs, emailServerRoutes, emailServerSchemas } from './routes/email-servers.js';
import { drainingGuard, healthDocs, healthRoutes } from './routes/health.js';
import { logDocs, logRoutes } from './routes/logs.js';
import { messageDocs, messageRoutes } from './routes/messages.js';
import { outboxDocs, outboxRoutes } from './routes/outbox.js';
import { metricsDocs } from './routes/metrics.js';
import { buildOpenApi, openApiDocs, openApiRoutes } from './routes/openapi.js';
import { sandboxDocs, sandboxRoutes } from './routes/sandbox.js';
import { relayDocs, relayRoutes } from './routes/relay.js';
import { sendDocs, sendRoutes, sendSchemas } from './routes/send.js';

export const SERVER_VERSION = '0.1.0';

/** Builds the express application over an already-opened context (see `createServer`). */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // API answers are `no-store`, so an ETag (a hash of every JSON body) buys nothing; the static UI
  // keeps its own ETags (serve-static).
  app.set('etag', false);
  app.set('trust proxy', ctx.trustProxy);

  app.use(requestLog(ctx.logger));
  app.use(securityHeaders({ https: ctx.cookie.secure === true }));

  const api = express.Router();
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(deniedRateLimit(ctx.audit));
  api.use(drainingGuard(ctx));
  api.use(
    csrfGuard({
      allowedOrigins: ctx.allowedOrigins,
      onDenied: (req, reason) =>
        ctx.audit.recordDenied({
          actor: 'unknown',
          action: routeLabel(req),
          target: `csrf:${reason}`,
          fields: [],
          address: req.ip ?? null,
        }),
    }),
  );
  api.use(
    express.json({ limit: ctx.bodyLimit, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  // S15: depth, width and key limits before any route clones, serialises or hands the body on.
  api.use(jsonLimits());

  const docs: OperationDoc[] = [
    ...healthDocs,
    ...authDocs,
    ...adminDocs,
    ...apiKeyDocs,
    ...apiKeyWebhookDocs,
    ...logDocs,
    ...emailServerDocs,
    ...sendDocs,
    ...sandboxDocs,
    ...relayDocs,
    ...messageDocs,
    ...outboxDocs,
    ...metricsDocs,
    ...openApiDocs,
  ];
  // The send API first: the applications' hot path then matches its route at once instead of
  // walking every admin router (each a layer per route) before reaching it.
  api.use(sendRoutes(ctx));
  api.use(healthRoutes(ctx));
  api.use('/auth', authRoutes(ctx));
  api.use('/admins', adminRoutes(ctx));
  api.use('/api-keys', apiKeyWebhookRoutes(ctx, apiKeyView));
  api.use('/api-keys', apiKeyRoutes(ctx));
  api.use('/email-servers', emailServerRoutes(ctx));
  api.use(logRoutes(ctx));
  api.use('/sandbox', sandboxRoutes(ctx));
  api.use('/relay', relayRoutes(ctx));
  api.use(messageRoutes(ctx));
  api.use('/outbox', outboxRoutes(ctx));
  api.use(
    openApiRoutes(() => buildOpenApi(docs, { ...emailServerSchemas(), ...sendSchemas() }, SERVER_VERSION)),
  );
  api.use(notFoundApi());

  app.use('/api', api);
  app.get('/metrics', ctx.metrics.handler());
  app.use(adminUi(ctx.adminUiDir));
  app.use(errorHandler(ctx.logger));
  return app;
}
