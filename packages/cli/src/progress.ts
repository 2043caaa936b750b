/** A one-line progress bar for terminals; does nothing when the stream is not a TTY. */
import type { Writable } from 'node:stream';

export interface ProgressBar {
  update(done: number, extra?: string): void;
  /** Clears the line so the summary starts on a clean line. */
  stop(): void;
}

export function createProgressBar(
  stream: Writable & { isTTY?: boolean; columns?: number },
  total: number,
  options: { enabled: boolean; now?: () => number },
): ProgressBar {
  if (!options.enabled || stream.isTTY !== true || total <= 0) return { update() {}, stop() {} };
  const now = options.now ?? Date.now;
  const started = now();
  let last = 0;
  let lastDone = -1;
  const draw = (done: number, extra: string) => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
    const filled = Math.round((done / total) * width);
    const elapsedMin = (now() - started) / 60_000;
    const rate = elapsedMin > 0 ? Math.round(done / elapsedMin) : 0;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    stream.write(
      `\r\u001b[2K${bar} ${done}/${total}${rate ? ` · ${rate}/min` : ''}${extra ? ` · ${extra}` : ''}`,
    );
  };
  return {
    update(done, extra = '') {
      // Redraw at most ~10 times a second, but always for the final state.
      const t = now();
      if (done === lastDone || (t - last < 100 && done < total)) return;
      last = t;
      lastDone = done;
      draw(done, extra);
    },
    stop() {
      stream.write('\r\u001b[2K');
    },
  };
}
