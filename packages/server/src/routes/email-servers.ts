import type { EmailServerListResponse, EmailServerResponse } from '@org/core/api';
import { emailServerConfigSchema } from '@org/core/config';
import { type Response, Router } from 'express';
import { diagnoseEntry, getRecordOr404, sendTest, testToken } from '../actions.js';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { createEmailServer, storedWarnings, toView, updateEmailServer } from '../email-servers.js';
import { ApiError } from '../http/errors.js';
import { parseIdParam, parseWith, s } from '../http/validate.js';
import type { OperationDoc } from './docs.js';

const address = s.string({ min: 3, max: 320, trim: true, description: 'an email address' });
const diagnoseBody = s.object({ sendTestTo: address }, ['sendTestTo']);
const sendTestBody = s.object({ to: address });

const coreError = {
  description: 'The token endpoint or SMTP server refused (core code, hint, details)',
  schema: { $ref: '#/components/schemas/Error' },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const one = { type: 'object', properties: { emailServer: ref('EmailServer'), warnings: { type: 'array' } } };

export const emailServerDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/email-servers',
    summary: 'List email servers (secrets are never returned)',
    tag: 'email-servers',
    auth: 'session',
    responses: {
      '200': {
        description: 'Entries',
        schema: {
          type: 'object',
          properties: { emailServers: { type: 'array', items: ref('EmailServer') } },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/api/email-servers',
    summary: 'Create an email server',
    tag: 'email-servers',
    auth: 'session',
    requestBody: ref('EmailServerConfigInput'),
    responses: {
      '201': { description: 'Created', schema: one },
      '409': { description: 'Name already used' },
    },
  },
  {
    method: 'get',
    path: '/api/email-servers/{id}',
    summary: 'One email server',
    tag: 'email-servers',
    auth: 'session',
    responses: { '200': { description: 'Entry', schema: one }, '404': { description: 'Not found' } },
  },
  {
    method: 'put',
    path: '/api/email-servers/{id}',
    summary: 'Replace an email server; omitted secrets keep their stored values',
    tag: 'email-servers',
    auth: 'session',
    requestBody: ref('EmailServerConfigInput'),
    responses: { '200': { description: 'Updated', schema: one }, '404': { description: 'Not found' } },
  },
  {
    method: 'delete',
    path: '/api/email-servers/{id}',
    summary:
      'Delete an email server; when it was the default, the oldest remaining entry becomes the default',
    tag: 'email-servers',
    auth: 'session',
    responses: { '204': { description: 'Deleted' }, '404': { description: 'Not found' } },
  },
  {
    method: 'post',
    path: '/api/email-servers/{id}/default',
    summary: 'Make this entry the default for the send API',
    tag: 'email-servers',
    auth: 'session',
    responses: { '200': { description: 'Updated', schema: one }, '404': { description: 'Not found' } },
  },
  {
    method: 'post',
    path: '/api/email-servers/{id}/test-token',
    summary:
      "Fetch a fresh token and check its claims with core's inspectAccessToken (never returns the token)",
    tag: 'email-servers',
    auth: 'session',
    responses: {
      '200': {
        description: 'Token received; `ok` says whether every claim check passed',
        schema: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            expiresAt: { type: 'string', format: 'date-time' },
            tokenType: { type: 'string' },
            claims: { type: 'object' },
            findings: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  check: { type: 'string' },
                  ok: { type: 'boolean' },
                  message: { type: 'string' },
                  fix: { type: 'string' },
                },
              },
            },
          },
        },
      },
      '404': { description: 'Not found' },
      '502': coreError,
    },
  },
  {
    method: 'post',
    path: '/api/email-servers/{id}/diagnose',
    summary:
      "Run core's doctor: every step (config, DNS, TCP, TLS, EHLO, token, claims, AUTH, MAIL/RCPT, message) with evidence and fix",
    tag: 'email-servers',
    auth: 'session',
    requestBody: {
      ...diagnoseBody.jsonSchema,
      description: '`sendTestTo` also sends a test message',
    },
    responses: {
      '200': {
        description: 'The diagnosis; `ok` is false when a step failed',
        schema: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            summary: { type: 'string' },
            steps: { type: 'array', items: { type: 'object' } },
          },
        },
      },
      '404': { description: 'Not found' },
    },
  },
  {
    method: 'post',
    path: '/api/email-servers/{id}/send-test',
    summary:
      "Send a short test message with a newly acquired token over a new connection (never the entry's pool); on failure, the doctor's failing step, cause and fix",
    tag: 'email-servers',
    auth: 'session',
    requestBody: sendTestBody.jsonSchema,
    responses: {
      '200': {
        description:
          'The test: `ok`, `at`, `covered` (steps exercised), `sent` (the server reply) or `error` and `failedStep`',
        schema: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            at: { type: 'string' },
            covered: { type: 'array', items: { type: 'string' } },
            summary: { type: 'string' },
            sent: { $ref: '#/components/schemas/SendResult' },
            error: { type: 'object' },
            failedStep: { type: 'object' },
            steps: { type: 'array', items: { type: 'object' } },
          },
        },
      },
      '400': { description: 'Invalid address (issue path `to`)' },
      '404': { description: 'Not found' },
      '502': coreError,
    },
  },
];

/** Component schemas for the OpenAPI document, generated from core's zod schema. */
export function emailServerSchemas(): Record<string, unknown> {
  const { $schema: _drop, ...input } = emailServerConfigSchema.toJSONSchema({
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    EmailServerConfigInput: {
      ...input,
      description:
        'Validated by @org/core. On update, secret fields may be omitted to keep the stored values.',
    },
    EmailServer: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        isDefault: { type: 'boolean' },
        config: { type: 'object', description: 'The entry with secrets replaced by "set" flags' },
        clientSecretSet: { type: 'boolean' },
        passwordSet: { type: 'boolean' },
        certificate: {
          type: ['object', 'null'],
          description: "core's CertificateInfo (S16)",
          properties: {
            subject: { type: 'string' },
            issuer: { type: 'string' },
            thumbprint: { type: 'string', description: 'SHA-1, as Entra shows it' },
            thumbprintSha256: { type: 'string' },
            notBefore: { type: 'string', format: 'date-time' },
            notAfter: { type: 'string', format: 'date-time' },
            daysUntilExpiry: { type: 'integer' },
          },
        },
        certificateProblem: {
          type: ['object', 'null'],
          properties: { code: { type: 'string' }, message: { type: 'string' } },
        },
        secretProblem: {
          type: ['object', 'null'],
          description: 'A stored secret no configured key decrypts: enter the named fields again',
          properties: {
            code: { type: 'string', enum: ['SECRET_DECRYPT_FAILED'] },
            message: { type: 'string' },
            fields: { type: 'array', items: { type: 'string' } },
          },
        },
        lastTest: {
          type: ['object', 'null'],
          properties: {
            ok: { type: 'boolean' },
            at: { type: 'string', format: 'date-time' },
            message: { type: ['string', 'null'] },
            check: { type: 'string', enum: ['token', 'diagnose', 'send-test'] },
            earlierFailure: {
              type: 'object',
              description: 'A failure of another check that a later success does not clear',
              properties: {
                check: { type: 'string' },
                at: { type: 'string', format: 'date-time' },
                message: { type: ['string', 'null'] },
              },
            },
          },
        },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  };
}

const idParam = (raw: string | undefined) => parseIdParam(raw, 'email server');

export function emailServerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));
  // Any change to entries (create, update, delete, default) clears the send API's lookups.
  // Cleared before and after, so a send racing the change cannot keep the old record cached.
  router.use((req, res, next) => {
    if (req.method !== 'GET' && !/\/(test-token|diagnose|send-test)$/.test(req.path)) {
      ctx.lookups.emailServers.clear();
      res.on('finish', () => ctx.lookups.emailServers.clear());
    }
    next();
  });

  router.get('/', async (_req, res) => {
    res.json({
      emailServers: (await ctx.repos.emailServers.list()).map((r) => toView(ctx, r)),
    } satisfies EmailServerListResponse);
  });

  router.post('/', async (req, res) => {
    const created = await createEmailServer(ctx, req.body, actorOf(res), req.ip ?? null);
    res.status(201).json(created satisfies EmailServerResponse);
  });

  router.get('/:id', async (req, res) => {
    const record = await ctx.repos.emailServers.get(idParam(req.params.id));
    if (!record) throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    res.json({
      emailServer: toView(ctx, record),
      warnings: storedWarnings(ctx, record),
    } satisfies EmailServerResponse);
  });

  router.put('/:id', async (req, res) => {
    const id = idParam(req.params.id);
    const updated = await updateEmailServer(ctx, id, req.body, actorOf(res), req.ip ?? null);
    ctx.runtimes.invalidate(id);
    res.json(updated satisfies EmailServerResponse);
  });

  router.delete('/:id', async (req, res) => {
    const id = idParam(req.params.id);
    const actor = actorOf(res);
    const address = req.ip ?? null;
    const deleted = await ctx.repos.emailServers.delete(id, async (trx, { promotedId }) => {
      await ctx.audit.record(
        { actor, action: 'email-server.delete', target: id, outcome: 'ok', address },
        trx,
      );
      // The default went with the entry: the oldest one left took its place (the send API's fallback).
      if (promotedId)
        await ctx.audit.record(
          {
            actor,
            action: 'email-server.set-default',
            target: promotedId,
            fields: ['isDefault'],
            outcome: 'ok',
            address,
          },
          trx,
        );
    });
    if (!deleted) throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    ctx.runtimes.invalidate(id);
    res.status(204).end();
  });

  router.post('/:id/default', async (req, res) => {
    const id = idParam(req.params.id);
    if (!(await ctx.repos.emailServers.setDefault(id)))
      throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'email-server.set-default',
      target: id,
      fields: ['isDefault'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    const record = (await ctx.repos.emailServers.get(id))!;
    res.json({
      emailServer: toView(ctx, record),
      warnings: storedWarnings(ctx, record),
    } satisfies EmailServerResponse);
  });

  // Actions: audited by name and outcome (no addresses, no message content).
  const audited = async <T>(
    res: Response,
    action: string,
    id: string,
    run: () => Promise<T>,
    succeeded: (result: T) => boolean = () => true,
  ) => {
    const audit = (outcome: 'ok' | 'failed') =>
      ctx.audit.record({ actor: actorOf(res), action, target: id, outcome, address: res.req.ip ?? null });
    try {
      const result = await run();
      await audit(succeeded(result) ? 'ok' : 'failed');
      return result;
    } catch (error) {
      await audit('failed');
      throw error;
    }
  };

  router.post('/:id/test-token', async (req, res) => {
    const record = await getRecordOr404(ctx, idParam(req.params.id));
    res.json(await audited(res, 'email-server.test-token', record.id, () => testToken(ctx, record)));
  });

  router.post('/:id/diagnose', async (req, res) => {
    const record = await getRecordOr404(ctx, idParam(req.params.id));
    const { sendTestTo } = parseWith(diagnoseBody, req.body ?? {});
    res.json(
      await audited(res, 'email-server.diagnose', record.id, () =>
        diagnoseEntry(ctx, record, { sendTestTo }),
      ),
    );
  });

  router.post('/:id/send-test', async (req, res) => {
    const record = await getRecordOr404(ctx, idParam(req.params.id));
    const { to } = parseWith(sendTestBody, req.body);
    res.json(
      await audited(
        res,
        'email-server.send-test',
        record.id,
        () => sendTest(ctx, record, to),
        (r) => r.ok,
      ),
    );
  });

  return router;
}
