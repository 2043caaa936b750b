#!/usr/bin/env node
// Sums the vitest summaries of every package in a `pnpm test` log into one closing line,
// `Tests: N passed, N failed, N skipped`. Fails when no test ran, and names every package that has a
// test script but printed no summary (a crash or a runner that never started must not look green).
// Usage: node scripts/test-summary.mjs [LABEL=]LOG …
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const expected = readdirSync(join(root, 'packages'))
  .map((dir) => {
    try {
      return JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      return undefined;
    }
  })
  .filter((pkg) => pkg?.scripts?.test)
  .map((pkg) => pkg.name);

/** Sums one log's vitest summaries; lists packages that printed none. */
function summarize(file) {
  const log = readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const reported = new Set();
  for (const line of log.split('\n')) {
    // turbo prefixes each line with its task: "@org/core:test:  Tests  12 passed | 1 skipped (13)"
    const m = /^(?:(\S+):test:)?\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line.trim());
    if (!m) continue;
    reported.add(m[1] ?? '?');
    for (const part of m[2].split('|')) {
      const [, n, what] = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part) ?? [];
      if (what === 'todo') totals.skipped += Number(n);
      else if (what) totals[what] += Number(n);
    }
  }
  return { totals, reported, missing: expected.filter((name) => !reported.has(name)) };
}

// Arguments: LOG or LABEL=LOG, one per test run (e.g. node24=/tmp/a.log node22=/tmp/b.log).
const runs = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf('=');
  return eq > 0 ? { label: arg.slice(0, eq), file: arg.slice(eq + 1) } : { label: 'run', file: arg };
});
const all = { passed: 0, failed: 0, skipped: 0 };
let bad = false;
console.log('');
for (const { label, file } of runs) {
  const { totals, reported, missing } = summarize(file);
  console.log(
    `${label} — summaries from ${reported.size} of ${expected.length} packages; ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
  );
  if (missing.length) console.log(`${label} — no test summary from: ${missing.join(', ')}`);
  if (missing.length || totals.passed === 0) bad = true;
  for (const k of Object.keys(all)) all[k] += totals[k];
}
console.log(`Tests: ${all.passed} passed, ${all.failed} failed, ${all.skipped} skipped`);
if (all.passed === 0) console.error('No test ran.');
if (bad || all.passed === 0) process.exit(1);
