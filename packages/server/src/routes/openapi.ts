import { Router } from 'express';
import type { OperationDoc } from './docs.js';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        hint: { type: 'string' },
        issues: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

/** Builds the OpenAPI 3.1 document from the routes' own request schemas (and core's zod schema). */
export function buildOpenApi(
  docs: readonly OperationDoc[],
  components: Record<string, unknown>,
  version: string,
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of docs) {
    const parameters = [
      ...[...d.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(d.query ?? {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(d.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
      };
    }
    responses['4XX'] ??= {
      description: 'Client error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    paths[d.path] ??= {};
    paths[d.path]![d.method] = {
      summary: d.summary,
      tags: [d.tag],
      ...(d.auth === 'session'
        ? { security: [{ session: [] }] }
        : d.auth === 'apiKey'
          ? { security: [{ apiKey: [] }] }
          : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(d.requestBody
        ? { requestBody: { required: true, content: { 'application/json': { schema: d.requestBody } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'smtp-oauth server',
      version,
      description:
        'Admin API behind the WebAdmin and the send API for applications. State-changing requests must be JSON and same-origin (CSRF).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Error: errorSchema, ...components },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'smtp_oauth_session' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key created under /api/api-keys' },
      },
    },
  };
}

export const openApiDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    tag: 'meta',
    auth: 'none',
    responses: { '200': { description: 'OpenAPI 3.1' } },
  },
];

export function openApiRoutes(document: () => unknown): Router {
  const router = Router();
  let cached: unknown;
  router.get('/openapi.json', (_req, res) => {
    cached ??= document();
    res.json(cached);
  });
  return router;
}
