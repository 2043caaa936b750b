import { createHash, randomBytes } from 'node:crypto';
import type { SessionsRepository } from '../store/sessions-repository.js';

export interface SessionPolicy {
  /** Ends a session after this long without a request. @default 30 minutes */
  idleTimeoutMs: number;
  /** Ends a session this long after login, however active. @default 12 hours */
  absoluteTimeoutMs: number;
}

export const defaultSessionPolicy: SessionPolicy = {
  idleTimeoutMs: 30 * 60_000,
  absoluteTimeoutMs: 12 * 3_600_000,
};

const hashId = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Server-side sessions. The cookie carries a 256-bit random token; the database keeps only its
 * hash. Every login gets a new token (no fixation); logout deletes the row (S11).
 */
export function createSessionManager(deps: {
  repo: SessionsRepository;
  now: () => Date;
  policy: SessionPolicy;
}) {
  const { repo, now, policy } = deps;
  return {
    async create(adminId: string): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      const at = now();
      await repo.insert({
        id_hash: hashId(token),
        admin_id: adminId,
        created_at: at.toISOString(),
        last_seen_at: at.toISOString(),
        expires_at: new Date(at.getTime() + policy.absoluteTimeoutMs).toISOString(),
      });
      return token;
    },
    /**
     * The admin id for a live session, or undefined. Expired sessions are deleted on sight.
     * `activity: false` (a page's automatic refresh) does not extend the idle timeout.
     */
    async resolve(token: string, options: { activity?: boolean } = {}): Promise<string | undefined> {
      if (token.length > 100) return undefined;
      const idHash = hashId(token);
      const row = await repo.find(idHash);
      if (!row) return undefined;
      const at = now();
      const idleEnd = Date.parse(row.last_seen_at) + policy.idleTimeoutMs;
      if (at.getTime() >= Date.parse(row.expires_at) || at.getTime() >= idleEnd) {
        await repo.delete(idHash);
        return undefined;
      }
      // Avoid a write per request; a few seconds of idle-time precision is enough.
      if (options.activity !== false && at.getTime() - Date.parse(row.last_seen_at) > 5_000)
        await repo.touch(idHash, at);
      return row.admin_id;
    },
    async destroy(token: string): Promise<void> {
      await repo.delete(hashId(token));
    },
    /** Ends every other session of the admin (after a password change). */
    async destroyOthers(adminId: string, keepToken: string | undefined): Promise<void> {
      await repo.deleteForAdmin(adminId, keepToken ? hashId(keepToken) : undefined);
    },
  };
}

export type SessionManager = ReturnType<typeof createSessionManager>;

/** Minimal RFC 6265 cookie-header parser (first value wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}
