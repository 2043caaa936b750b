import { describe, expect, it } from 'vitest';
import { createPoller } from '../src/lib/poller.js';

/** A hand-driven clock: timers fire when the test says so. */
function manualTimers() {
  let seq = 0;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  return {
    setTimer: (fn: () => void, ms: number) => {
      pending.set(++seq, { fn, ms });
      return seq;
    },
    clearTimer: (h: unknown) => void pending.delete(h as number),
    pending: () => [...pending.values()],
    /** Fires every pending timer once. */
    fire() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, t] of due) t.fn();
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const timers = manualTimers();
  let visible = true;
  const listeners = new Set<() => void>();
  let runs = 0;
  let release: (() => void) | undefined;
  let hold = false;
  const poller = createPoller({
    intervalMs: 5000,
    run: () => {
      runs++;
      return hold ? new Promise<void>((r) => (release = r)) : Promise.resolve();
    },
    isVisible: () => visible,
    onVisibilityChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  return {
    poller,
    timers,
    runs: () => runs,
    listeners,
    setVisible(v: boolean) {
      visible = v;
      for (const l of listeners) l();
    },
    holdRuns(v: boolean) {
      hold = v;
    },
    release: () => release?.(),
  };
}

describe('live updates by polling', () => {
  it('refreshes every interval after the previous refresh ended, one timer at a time', async () => {
    const t = setup();
    t.poller.start();
    expect(t.runs()).toBe(0);
    expect(t.timers.pending()).toEqual([expect.objectContaining({ ms: 5000 })]);
    for (let i = 1; i <= 3; i++) {
      t.timers.fire();
      await flush();
      expect(t.runs()).toBe(i);
      expect(t.timers.pending()).toHaveLength(1);
    }
  });

  it('never starts a second refresh while one is still running (a slow server is not piled on)', async () => {
    const t = setup();
    t.holdRuns(true);
    t.poller.start();
    t.timers.fire();
    await flush();
    expect(t.runs()).toBe(1);
    expect(t.timers.pending()).toHaveLength(0);
    // Becoming visible again meanwhile does not start another one either.
    t.setVisible(true);
    await flush();
    expect(t.runs()).toBe(1);
    t.release();
    await flush();
    expect(t.timers.pending()).toHaveLength(1);
  });

  it('does nothing while the page is hidden and refreshes at once when it is shown again', async () => {
    const t = setup();
    t.poller.start();
    t.setVisible(false);
    expect(t.timers.pending()).toHaveLength(0);
    await flush();
    expect(t.runs()).toBe(0);
    t.setVisible(true);
    await flush();
    expect(t.runs()).toBe(1);
    expect(t.timers.pending()).toHaveLength(1);
  });

  it('keeps polling after a failed refresh', async () => {
    const timers = manualTimers();
    let runs = 0;
    const poller = createPoller({
      intervalMs: 1000,
      run: async () => {
        runs++;
        throw new Error('server away');
      },
      isVisible: () => true,
      onVisibilityChange: () => () => {},
      ...timers,
    });
    poller.start();
    timers.fire();
    await flush();
    timers.fire();
    await flush();
    expect(runs).toBe(2);
    expect(timers.pending()).toHaveLength(1);
  });

  it('stop() ends it: no timer, no listener, a running refresh schedules nothing', async () => {
    const t = setup();
    t.holdRuns(true);
    t.poller.start();
    t.timers.fire();
    await flush();
    t.poller.stop();
    expect(t.listeners.size).toBe(0);
    t.release();
    await flush();
    expect(t.timers.pending()).toHaveLength(0);
    expect(t.poller.running).toBe(false);
  });
});
