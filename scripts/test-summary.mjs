#!/usr/bin/env node
// Sums the vitest summaries of every package in a `pnpm test` log into one closing line,
// `Tests: N passed, N failed, N skipped`, and fails when no test ran at all.
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const totals = { passed: 0, failed: 0, skipped: 0 };
let summaries = 0;
for (const line of log.split('\n')) {
  const m = /^\S*\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line.trim());
  if (!m) continue;
  summaries++;
  for (const part of m[1].split('|')) {
    const [, n, what] = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part) ?? [];
    if (what === 'todo') totals.skipped += Number(n);
    else if (what) totals[what] += Number(n);
  }
}
console.log(`\nTest summaries found: ${summaries}`);
console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
if (summaries === 0 || totals.passed === 0) {
  console.error('No test ran.');
  process.exit(1);
}
