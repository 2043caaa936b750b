// Runs a server bin as a child process and reads what it prints, for the tests of the entry point.
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunningBin {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved. */
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node [nodeArgs] <bin> [args]` with only PATH and `env` in its environment. */
export function runBin(
  bin: string,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): RunningBin {
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d;
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Resolves with the first match of `pattern` in the output; fails with the output after `ms`. */
export async function waitForOutput(
  output: () => string,
  pattern: RegExp,
  ms: number,
): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = output().match(pattern);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
}
