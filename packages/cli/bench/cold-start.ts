/**
 * Cold start of the built `smtp-oauth` binary next to a bare `node -e 0`, measured in the same run
 * (interleaved, so machine load affects all three alike). Target: `--version` and `--help` within
 * 2.5× of `node -e 0`. Exits non-zero when the target is missed. Besides the table it prints one
 * `BENCH_ROW {json}` line per figure for the root `pnpm bench`.
 *
 *   pnpm --filter @org/cli bench            (RUNS=30 for more samples)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/bin/smtp-oauth.js', import.meta.url));
const RUNS = Math.max(15, Number(process.env.RUNS ?? 21));
const TARGET = 2.5;

if (!existsSync(BIN)) {
  console.error(`${BIN} is missing: run \`pnpm --filter @org/cli build\` first`);
  process.exit(2);
}

const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'smtp-oauth --version', args: [BIN, '--version'] },
  { name: 'smtp-oauth --help', args: [BIN, '--help'] },
] as const;

function once(args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

// Warm the file system cache so the first sample of each case is not an outlier.
for (const c of cases) once(c.args);
const samples = cases.map(() => [] as number[]);
for (let i = 0; i < RUNS; i++)
  cases.forEach((c, j) => {
    samples[j]?.push(once(c.args));
  });

const medians = samples.map(median);
const baseline = medians[0] as number;
console.log(
  `cold start, median of ${RUNS} runs each (node ${process.version}, ${process.platform}/${process.arch})\n`,
);
console.log(`${'command'.padEnd(24)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'ratio'.padStart(7)}`);
let missed = false;
cases.forEach((c, i) => {
  const m = medians[i] as number;
  const ratio = m / baseline;
  const over = i > 0 && ratio > TARGET;
  missed ||= over;
  console.log(
    `${c.name.padEnd(24)} ${`${m.toFixed(1)} ms`.padStart(9)} ${`${Math.min(...(samples[i] ?? [])).toFixed(1)} ms`.padStart(9)} ${`${ratio.toFixed(2)}×`.padStart(7)}${over ? '  ✗ over target' : ''}`,
  );
});
console.log(`\ntarget: ≤ ${TARGET}× node -e 0 — ${missed ? 'MISSED' : 'met'}`);
// Machine-readable rows for the root `pnpm bench` table (scripts/bench.mjs).
cases.forEach((c, i) => {
  if (i === 0) return;
  const ratio = (medians[i] as number) / baseline;
  console.log(
    `BENCH_ROW ${JSON.stringify({
      figure: `${c.name} cold start (median)`,
      ours: `${(medians[i] as number).toFixed(0)} ms`,
      comparison: `${baseline.toFixed(0)} ms ${cases[0].name}`,
      ratio: ratio.toFixed(2),
      target: `≤ ${TARGET}`,
      pass: ratio <= TARGET,
    })}`,
  );
});
process.exitCode = missed ? 1 : 0;
