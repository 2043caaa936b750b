#!/usr/bin/env node
// Runs every package's benchmark one after another (they compete for the same 2 cores otherwise)
// and prints one table. Each benchmark prints its results as lines `BENCH_ROW {json}` with
// { figure, ours, comparison, ratio, target, pass }; everything else it prints is passed through.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

// Ratios are measured side by side in one run, but the runtime still matters when comparing runs.
const runtime = `Node ${process.version} (V8 ${process.versions.v8}) on ${process.platform}-${process.arch}, ${cpus().length} cores`;
console.log(`Benchmarks on ${runtime}`);

const packages = ['@org/testkit', '@org/core', '@org/cli', '@org/server', '@org/admin-ui'];
const rows = [];
let failed = false;
for (const name of packages) {
  console.log(`\n── ${name} ${'─'.repeat(60 - name.length)}`);
  const run = spawnSync('pnpm', ['--silent', '--filter', name, 'bench'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of (run.stdout ?? '').split('\n')) {
    if (line.startsWith('BENCH_ROW ')) rows.push({ pkg: name, ...JSON.parse(line.slice(10)) });
    else if (line.trim()) console.log(line);
  }
  if (run.status !== 0) {
    failed = true;
    rows.push({
      pkg: name,
      figure: 'benchmark run',
      ours: `exit ${run.status}`,
      comparison: '',
      ratio: '',
      target: '',
      pass: false,
    });
  }
}
const header = ['package', 'figure', 'ours', 'comparison (same run)', 'ratio', 'target', ''];
const table = [
  header,
  ...rows.map((r) => [
    r.pkg,
    r.figure,
    String(r.ours),
    String(r.comparison),
    String(r.ratio),
    String(r.target),
    r.pass ? 'ok' : 'MISSED',
  ]),
];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`\nBenchmarks — ${runtime}`);
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, j) => cell.padEnd(widths[j])).join('  '));
  if (i === 0) console.log(widths.map((w) => '─'.repeat(w)).join('  '));
}
if (failed || rows.some((r) => !r.pass)) process.exit(1);
