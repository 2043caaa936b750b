/**
 * A very short-lived cache for the send API's two lookups per request (API key, entry). Changes
 * made through this instance clear it at once; changes made by another instance sharing the
 * database are seen after at most `ttlMs`. Misses are not cached, so a new key works immediately.
 */
export function createLookupCache<T>(ttlMs: number, now: () => number = Date.now) {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    async get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
      const hit = entries.get(key);
      if (hit && hit.until > now()) return hit.value;
      const value = await load();
      if (value === undefined) entries.delete(key);
      else if (ttlMs > 0) {
        if (entries.size >= 10_000) entries.clear(); // bounded: keys are attacker-chosen strings
        entries.set(key, { value, until: now() + ttlMs });
      }
      return value;
    },
    clear(): void {
      entries.clear();
    },
  };
}

export type LookupCache<T> = ReturnType<typeof createLookupCache<T>>;
