// Shared by the server's benchmarks: the testkit in a child process, and the load worker.
import { type ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { EnvironmentEmailServerConfig } from '@org/testkit';

/** One measured run of the load worker (see load-worker.mjs). */
export interface Run {
  seconds: number;
  latencies: number[];
  /** Event-loop busy time of the thread that sends (server main thread, or the direct worker). */
  busyMs: number;
  /** CPU time of that thread (Linux); undefined elsewhere. */
  cpuMs?: number | undefined;
  /** HTTP side: CPU time of the clients' thread. */
  clientCpuMs?: number | undefined;
  /** CPU time of the testkit process during the round. */
  testkitCpuMs?: number;
}

const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

/** The testkit in a child process, driven over IPC. */
export async function startTestkit(): Promise<{
  config: EnvironmentEmailServerConfig;
  call(cmd: 'count' | 'cpu' | 'reset' | 'close'): Promise<unknown>;
  child: ChildProcess;
}> {
  const child = fork(new URL('./testkit-process.mjs', import.meta.url), { execArgv: [], stdio: 'inherit' });
  let seq = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  const config = await new Promise<EnvironmentEmailServerConfig>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`testkit process exited (${code})`)));
    child.on(
      'message',
      (m: { ready?: boolean; config?: EnvironmentEmailServerConfig; id?: number; value?: unknown }) => {
        if (m.ready && m.config) resolve(m.config);
        else if (m.id !== undefined) waiting.get(m.id)?.(m.value);
      },
    );
  });
  return {
    config,
    child,
    call: (cmd) =>
      new Promise((resolve) => {
        const id = seq++;
        waiting.set(id, resolve);
        child.send({ cmd, id });
      }),
  };
}

/** A long-lived load worker (see load-worker.mjs); `run(n)` sends n messages with 8-way concurrency. */
export async function startLoad(workerData: Record<string, unknown>) {
  const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
    // BENCH_PROFILE_DIR=/tmp/prof: CPU profiles of the load workers too (the main thread's come from
    // `node --cpu-prof`); the testkit process is never profiled.
    execArgv: PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    workerData,
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    run: (total: number) =>
      new Promise<Run>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        worker.once('error', onError);
        worker.once('message', (m: Run & { error?: string }) => {
          worker.off('error', onError);
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        });
        worker.postMessage({ total });
      }),
    close: async () => {
      worker.postMessage({ close: true });
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}
