import type { ThrottleRepository } from '../store/throttle-repository.js';

export interface LoginRateLimitPolicy {
  /** Failed logins per account before it is locked. @default 10 */
  maxFailuresPerAccount: number;
  /** Failed logins per client address before it is locked. @default 30 */
  maxFailuresPerAddress: number;
  /** Failures older than this are forgotten. @default 15 minutes */
  windowMs: number;
  /** How long a lock lasts. @default 15 minutes */
  lockMs: number;
}

export const defaultLoginRateLimit: LoginRateLimitPolicy = {
  maxFailuresPerAccount: 10,
  maxFailuresPerAddress: 30,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/**
 * Login throttling per account and per address (S13). Unknown accounts are counted exactly like
 * known ones, so the answers cannot be used to discover which accounts exist.
 *
 * An attempt is counted *before* the password is checked (`begin`) and uncounted on success, so a
 * burst of concurrent guesses gets at most `max` password checks, not one per request.
 */
export function createLoginLimiter(deps: {
  repo: ThrottleRepository;
  now: () => Date;
  policy: LoginRateLimitPolicy;
}) {
  const { repo, now, policy } = deps;
  const keys = (account: string, address: string) => [
    { key: `account:${account.toLowerCase()}`, max: policy.maxFailuresPerAccount },
    { key: `address:${address}`, max: policy.maxFailuresPerAddress },
  ];
  const secondsUntil = (lockedUntil: string | null, at: number) =>
    lockedUntil && Date.parse(lockedUntil) > at ? Math.ceil((Date.parse(lockedUntil) - at) / 1000) : 0;

  return {
    /** Seconds until the caller may try again; 0 when not locked. */
    async lockedFor(account: string, address: string): Promise<number> {
      const at = now().getTime();
      let wait = 0;
      for (const { key } of keys(account, address)) {
        const row = await repo.get(key);
        if (row) wait = Math.max(wait, secondsUntil(row.locked_until, at));
      }
      return wait;
    },
    /**
     * Counts an attempt. Returns `{ allowed: false }` when this attempt is over a limit (the caller
     * answers 429 without checking the password).
     */
    async begin(account: string, address: string): Promise<{ allowed: boolean; retryAfter: number }> {
      const at = now();
      let allowed = true;
      for (const { key, max } of keys(account, address)) {
        const row = await repo.bump(key, 1, at, policy.windowMs);
        if (row.failures > max) allowed = false;
      }
      return { allowed, retryAfter: allowed ? 0 : Math.ceil(policy.lockMs / 1000) };
    },
    /** After a wrong password: locks whatever reached its limit; returns the lock in seconds (0 if none). */
    async failed(account: string, address: string): Promise<number> {
      const at = now();
      let wait = 0;
      for (const { key, max } of keys(account, address)) {
        const row = await repo.get(key);
        if (row && row.failures >= max) {
          const until = new Date(at.getTime() + policy.lockMs);
          await repo.lock(key, until);
          wait = Math.max(wait, secondsUntil(until.toISOString(), at.getTime()));
        }
      }
      return wait;
    },
    /** A successful login clears the account's counter and returns the address's attempt. */
    async succeeded(account: string, address: string): Promise<void> {
      await repo.clear(`account:${account.toLowerCase()}`);
      await repo.bump(`address:${address}`, -1, now(), policy.windowMs);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
