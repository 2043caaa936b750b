import { z } from 'zod';
import { emailServerConfigSchema } from './schema.js';

/**
 * JSON Schema (draft 2020-12) for config files: one entry or `{ servers: [...] }`, for editor
 * completion via `"$schema"`. Cross-field rules are enforced by {@link parseConfig}, not the schema.
 */
export function configJsonSchema(): Record<string, unknown> {
  const entry = z.toJSONSchema(emailServerConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const { $schema, ...entrySchema } = entry;
  const properties = (entrySchema.properties ?? {}) as Record<string, unknown>;
  const withSchemaKey = { ...entrySchema, properties: { $schema: { type: 'string' }, ...properties } };
  return {
    $schema,
    title: 'smtp-oauth email server configuration',
    anyOf: [
      withSchemaKey,
      {
        type: 'object',
        properties: {
          $schema: { type: 'string' },
          servers: { type: 'array', minItems: 1, items: entrySchema },
        },
        required: ['servers'],
        additionalProperties: false,
      },
    ],
  };
}
