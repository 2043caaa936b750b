import { hash as digest, randomBytes } from 'node:crypto';
import { parseScope } from './api-key-scope.js';
import type { RequestHandler } from 'express';
import type { AppContext } from '../context.js';
import { routeLabel } from '../http/route-label.js';
import { ApiError } from '../http/errors.js';

const KEY_PREFIX = 'smtpo_';

/**
 * A new API key: 256 random bits. Stored as SHA-256 — enough for a high-entropy key (no brute force
 * to slow down), and lookups stay a single indexed equality.
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 6), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  // One-shot `crypto.hash` (Node ≥ 20.12): the same digest as createHash().update().digest() without
  // a Hash object per request.
  return digest('sha256', key, 'base64url');
}

/**
 * Authenticates applications by `Authorization: Bearer <key>` (the send API). Revoked and unknown
 * keys get the same 401; the denial is audited with the key's prefix only.
 */
export function requireApiKey(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(req.get('authorization') ?? '');
    const presented = match?.[1];
    const hash = presented?.startsWith(KEY_PREFIX) ? hashApiKey(presented) : undefined;
    const row = hash
      ? await ctx.lookups.apiKeys.get(hash, () => ctx.repos.apiKeys.findActiveByHash(hash))
      : undefined;
    if (!row) {
      await ctx.audit.recordDenied({
        actor: 'anonymous',
        action: routeLabel(req),
        target: presented ? `api-key-prefix:${presented.slice(0, KEY_PREFIX.length + 6)}` : null,
        fields: [],
        address: req.ip ?? null,
      });
      return next(
        new ApiError(401, 'INVALID_API_KEY', 'A valid API key is required', {
          hint: 'Send Authorization: Bearer <key>; create keys in the admin UI under API keys',
          headers: { 'WWW-Authenticate': 'Bearer' },
        }),
      );
    }
    res.locals.apiKey = { id: row.id, name: row.name };
    // The binding, checked by the send route once it knows the entry and From (auth/api-key-scope.ts).
    res.locals.apiKeyScope = parseScope(row.scope_json);
    // "Last used" to the minute is enough; skipping the write keeps the send path at one update-free lookup.
    const now = ctx.now();
    if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) >= 60_000) {
      row.last_used_at = now.toISOString(); // the cached row too: one write per minute, not per request
      await ctx.repos.apiKeys.touch(row.id, now);
    }
    next();
  };
}
