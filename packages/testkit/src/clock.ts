/**
 * A controllable clock shared by the token server and the SMTP server, so a test can move time
 * forward (token expiry, secret expiry, rate-limit windows) without waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch, as the servers see it. */
  now(): number;
  /** Moves the clock forward by `ms` (negative moves it back). */
  advance(ms: number): void;
  /** Sets the clock to an absolute time (ms since the epoch). */
  set(epochMs: number): void;
  /** True when time stands still unless moved by `advance`/`set`. */
  readonly frozen: boolean;
}

export interface ClockOptions {
  /**
   * Freeze time at the start instant; otherwise it runs with the wall clock plus an offset.
   * @default false
   */
  frozen?: boolean;
  /** Start instant (ms since the epoch). @default Date.now() */
  start?: number;
}

/** Creates a clock. It runs in real time by default; `advance()` shifts it for everyone sharing it. */
export function createClock(options: ClockOptions = {}): Clock {
  const frozen = options.frozen ?? false;
  const startWall = Date.now();
  let offset = (options.start ?? startWall) - startWall;
  let fixed = options.start ?? startWall;
  return {
    frozen,
    now: () => (frozen ? fixed : Date.now() + offset),
    advance(ms) {
      if (frozen) fixed += ms;
      else offset += ms;
    },
    set(epochMs) {
      if (frozen) fixed = epochMs;
      else offset = epochMs - Date.now();
    },
  };
}

/** Seconds since the epoch, as JWT claims use them. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
