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
  /**
   * Changes the number of permits. Lowering it never takes a permit back from a holder: the
   * holders above the new limit finish, and waiters are admitted only below it.
   */
  setPermits(permits: number): void;
  /** The current number of permits. */
  readonly permits: number;
}

export function createSemaphore(permits: number): Semaphore {
  let limit = Math.max(1, Math.floor(permits));
  let held = 0;
  const waiters: (() => void)[] = [];
  const admit = () => {
    while (held < limit && waiters.length > 0) {
      held++;
      (waiters.shift() as () => void)();
    }
  };
  const once = () => {
    let released = false;
    return () => {
      if (!released) {
        released = true;
        held--;
        admit();
      }
    };
  };
  return {
    acquire() {
      if (held < limit && waiters.length === 0) {
        held++;
        return Promise.resolve(once());
      }
      return new Promise((resolve) => waiters.push(() => resolve(once())));
    },
    setPermits(n) {
      limit = Math.max(1, Math.floor(n));
      admit();
    },
    get permits() {
      return limit;
    },
  };
}
