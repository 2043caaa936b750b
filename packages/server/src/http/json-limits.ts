import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

/** Shape limits of a JSON request body, checked before any route copies, clones or serialises it. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects. @default 32 */
  maxDepth: number;
  /** Arrays, objects and values in the whole body. @default 50000 */
  maxNodes: number;
  /** Keys of one object. @default 1000 */
  maxKeys: number;
}

export const defaultJsonLimits: JsonLimits = { maxDepth: 32, maxNodes: 50_000, maxKeys: 1000 };

const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Walks a parsed body without recursion (a hostile depth cannot overflow the stack here) and returns
 * the first limit it breaks, with the path where it broke.
 */
export function jsonShapeProblem(
  body: unknown,
  limits: JsonLimits = defaultJsonLimits,
): { path: string; message: string } | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (++nodes > limits.maxNodes)
      return { path: path || '(root)', message: `has more than ${limits.maxNodes} values in total` };
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limits.maxDepth)
      return { path: path || '(root)', message: `is nested deeper than ${limits.maxDepth} levels` };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: at(path, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeys)
      return { path: path || '(root)', message: `has more than ${limits.maxKeys} keys` };
    for (const key of keys)
      stack.push({ value: (value as Record<string, unknown>)[key], path: at(path, key), depth: depth + 1 });
  }
  return undefined;
}

/**
 * Refuses a JSON body whose shape breaks {@link JsonLimits} with a 400 naming the path (S15), before
 * any route validates, clones (`structuredClone`), stores or posts it to the mailer thread — each of
 * which fails on extreme nesting with a RangeError. The byte size is express.json's `limit`.
 */
export function jsonLimits(limits: Partial<JsonLimits> = {}): RequestHandler {
  const effective = { ...defaultJsonLimits, ...limits };
  return (req, _res, next) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') return next();
    const problem = jsonShapeProblem(req.body, effective);
    if (!problem) return next();
    next(
      new ApiError(400, 'BODY_TOO_COMPLEX', `The request body ${problem.message}`, {
        hint: `Send at most ${effective.maxDepth} levels of nesting, ${effective.maxKeys} keys per object and ${effective.maxNodes} values`,
        issues: [{ path: problem.path, message: problem.message }],
      }),
    );
  };
}
