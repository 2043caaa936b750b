import { ApiError, type Issue } from './errors.js';

/**
 * A small strict validator for the server's own request bodies and query strings, whose JSON
 * Schema feeds the OpenAPI document. Email-server configs are validated by core's zod schema, not
 * here (one source of truth); this covers login, API keys and paging.
 */
export interface Schema<T> {
  readonly jsonSchema: Record<string, unknown>;
  check(input: unknown, path: string, issues: Issue[]): T | undefined;
}

type Infer<S> = S extends Schema<infer T> ? T : never;

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

export const s = {
  string(opts: {
    min?: number;
    max: number;
    pattern?: RegExp;
    description?: string;
    trim?: boolean;
  }): Schema<string> {
    return {
      jsonSchema: {
        type: 'string',
        ...(opts.min !== undefined ? { minLength: opts.min } : {}),
        maxLength: opts.max,
        ...(opts.pattern ? { pattern: opts.pattern.source } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      },
      check(input, path, issues) {
        if (typeof input !== 'string') {
          issues.push({ path, message: `Expected a string, got ${describe(input)}` });
          return undefined;
        }
        const value = opts.trim ? input.trim() : input;
        // NUL never belongs in our inputs, and PostgreSQL text columns reject it outright.
        if (value.includes('\u0000')) {
          issues.push({ path, message: 'Must not contain NUL characters' });
        } else if (opts.min !== undefined && value.length < opts.min) {
          issues.push({
            path,
            message: opts.min === 1 ? 'Must not be empty' : `Must be at least ${opts.min} characters`,
          });
        } else if (value.length > opts.max) {
          issues.push({ path, message: `Must be at most ${opts.max} characters` });
        } else if (opts.pattern && !opts.pattern.test(value)) {
          issues.push({
            path,
            message: opts.description ? `Must be ${opts.description}` : 'Has an invalid format',
          });
        } else {
          return value;
        }
        return undefined;
      },
    };
  },
  integer(opts: { min: number; max: number; fromString?: boolean }): Schema<number> {
    return {
      jsonSchema: { type: 'integer', minimum: opts.min, maximum: opts.max },
      check(input, path, issues) {
        const value =
          opts.fromString && typeof input === 'string' && /^-?\d{1,15}$/.test(input) ? Number(input) : input;
        if (typeof value !== 'number' || !Number.isInteger(value)) {
          issues.push({ path, message: `Expected an integer, got ${describe(input)}` });
          return undefined;
        }
        if (value < opts.min || value > opts.max) {
          issues.push({ path, message: `Must be between ${opts.min} and ${opts.max}` });
          return undefined;
        }
        return value;
      },
    };
  },
  /** An array of at most `max` items, each checked by `item`. */
  array<T>(item: Schema<T>, opts: { max: number; description?: string }): Schema<T[]> {
    return {
      jsonSchema: {
        type: 'array',
        items: item.jsonSchema,
        maxItems: opts.max,
        ...(opts.description ? { description: opts.description } : {}),
      },
      check(input, path, issues) {
        if (!Array.isArray(input)) {
          issues.push({ path, message: `Expected an array, got ${describe(input)}` });
          return undefined;
        }
        if (input.length > opts.max) {
          issues.push({ path, message: `Must have at most ${opts.max} items` });
          return undefined;
        }
        const before = issues.length;
        const out = input.map((v, i) => item.check(v, `${path}[${i}]`, issues));
        return issues.length === before ? (out as T[]) : undefined;
      },
    };
  },
  /** A strict object: unknown keys are rejected with their path (S15). */
  object<Shape extends Record<string, Schema<unknown>>, Opt extends keyof Shape = never>(
    shape: Shape,
    optional: readonly Opt[] = [],
  ): Schema<{ [K in Exclude<keyof Shape, Opt>]: Infer<Shape[K]> } & { [K in Opt]?: Infer<Shape[K]> }> {
    const optionalSet = new Set<string>(optional as readonly string[]);
    return {
      jsonSchema: {
        type: 'object',
        properties: Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.jsonSchema])),
        required: Object.keys(shape).filter((k) => !optionalSet.has(k)),
        additionalProperties: false,
      },
      check(input, path, issues) {
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          issues.push({ path, message: `Expected an object, got ${describe(input)}` });
          return undefined;
        }
        const out: Record<string, unknown> = {};
        const before = issues.length;
        for (const key of Object.keys(input)) {
          if (!Object.hasOwn(shape, key)) issues.push({ path: join(path, key), message: 'Unknown field' });
        }
        for (const [key, schema] of Object.entries(shape)) {
          const value = (input as Record<string, unknown>)[key];
          if (value === undefined) {
            if (!optionalSet.has(key)) issues.push({ path: join(path, key), message: 'Required' });
            continue;
          }
          out[key] = schema.check(value, join(path, key), issues);
        }
        return issues.length === before ? (out as never) : undefined;
      },
    };
  },
};

/** Validates or throws a 400 `VALIDATION_FAILED` listing every problem with its path. */
export function parseWith<T>(schema: Schema<T>, input: unknown, what: 'body' | 'query' = 'body'): T {
  const issues: Issue[] = [];
  const value = schema.check(input === undefined && what === 'body' ? undefined : input, '', issues);
  if (issues.length > 0 || value === undefined) {
    throw new ApiError(400, 'VALIDATION_FAILED', `The request ${what} is invalid`, {
      issues:
        issues.length > 0
          ? issues.slice(0, 50).map((i) => ({ ...i, path: i.path || '(root)' }))
          : [{ path: '(root)', message: 'Required' }],
    });
  }
  return value;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Record ids (UUIDs, sortable log ids) in paths and queries. */
export const idString = (description = 'an id') => s.string({ min: 1, max: 100, pattern: ID, description });

/** A path id; anything not shaped like one cannot exist, so it is a 404, not a database query. */
export function parseIdParam(raw: string | undefined, what: string): string {
  if (raw === undefined || !ID.test(raw)) throw new ApiError(404, 'NOT_FOUND', `No ${what} with this id`);
  return raw;
}
