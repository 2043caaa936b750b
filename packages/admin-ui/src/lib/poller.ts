/**
 * Live updates by polling, while the page is visible. Chosen over Server-Sent Events: every request
 * is an ordinary admin API call that any instance behind a load balancer answers from the shared
 * database (no sticky sessions, no cross-instance fan-out, no long-lived connection a proxy may
 * buffer or cut), and a hidden tab costs nothing.
 */

export interface PollerOptions {
  /** One refresh; its own errors are its business (shown by the page), a rejection is ignored here. */
  run: () => Promise<unknown>;
  /** Pause between the end of one refresh and the start of the next, ms. */
  intervalMs: number;
  /** Whether the page is visible now (`document.visibilityState === 'visible'`). */
  isVisible: () => boolean;
  /** Subscribes to visibility changes; returns the unsubscribe. */
  onVisibilityChange: (listener: () => void) => () => void;
  /** @default globalThis.setTimeout */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** @default globalThis.clearTimeout */
  clearTimer?: (handle: unknown) => void;
}

export interface Poller {
  /** Starts polling (the first refresh after one interval: the page loads its data itself). */
  start(): void;
  /** Stops polling; a refresh in progress finishes but schedules nothing. */
  stop(): void;
  readonly running: boolean;
}

/**
 * Never two refreshes at once (the next is scheduled when one ends, so a slow server is not piled
 * on); nothing while the page is hidden; one refresh at once when it becomes visible again.
 */
export function createPoller(options: PollerOptions): Poller {
  const setTimer = options.setTimer ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearTimer =
    options.clearTimer ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
  let running = false;
  let busy = false;
  let timer: unknown;
  let unsubscribe: (() => void) | undefined;

  const schedule = () => {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (running && !busy && options.isVisible()) timer = setTimer(tick, options.intervalMs);
  };

  async function tick(): Promise<void> {
    timer = undefined;
    if (!running || busy || !options.isVisible()) return;
    busy = true;
    try {
      await options.run();
    } catch {
      // The page shows its own errors; polling goes on (the server may be back next time).
    } finally {
      busy = false;
      schedule();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribe = options.onVisibilityChange(() => {
        if (!running) return;
        if (timer !== undefined) clearTimer(timer);
        timer = undefined;
        if (options.isVisible()) void tick();
        else schedule();
      });
      schedule();
    },
    stop() {
      running = false;
      unsubscribe?.();
      unsubscribe = undefined;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
    },
    get running() {
      return running;
    },
  };
}
