import { defaultSleep } from './retry.js';

/** Grants at most `limit` permits per sliding `windowMs`; callers wait in FIFO order. */
export interface RateLimiter {
  acquire(): Promise<void>;
}

export function createRateLimiter(options: {
  limit: number;
  windowMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}): RateLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const limit = Math.max(1, Math.floor(options.limit));
  const grants: number[] = [];
  let tail: Promise<void> = Promise.resolve();

  async function take(): Promise<void> {
    for (;;) {
      const t = now();
      while (grants.length > 0 && (grants[0] ?? 0) <= t - options.windowMs) grants.shift();
      if (grants.length < limit) {
        grants.push(t);
        return;
      }
      await sleep((grants[0] ?? t) + options.windowMs - t);
    }
  }

  return {
    acquire() {
      const turn = tail.then(take);
      tail = turn.catch(() => {});
      return turn;
    },
  };
}

/** At most `permits` holders at a time; waiters are served in FIFO order. */
export interface Semaphore {
  acquire(): Promise<() => void>;
}

export function createSemaphore(permits: number): Semaphore {
  let free = Math.max(1, Math.floor(permits));
  const waiters: (() => void)[] = [];
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire() {
      const once = () => {
        let released = false;
        return () => {
          if (!released) {
            released = true;
            release();
          }
        };
      };
      if (free > 0) {
        free--;
        return Promise.resolve(once());
      }
      return new Promise((resolve) => waiters.push(() => resolve(once())));
    },
  };
}
