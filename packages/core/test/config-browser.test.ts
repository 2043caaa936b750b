import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const ALLOWED_PACKAGES = new Set(['zod']);

/** Every module reachable from `entry` through static imports/exports, with its bare specifiers. */
async function importGraph(entry: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (graph.has(file)) continue;
    const source = await readFile(file, 'utf8');
    const specifiers = [
      ...source.matchAll(
        /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      ),
    ].map((m) => (m[1] ?? m[2]) as string);
    const bare: string[] = [];
    for (const s of specifiers) {
      if (s.startsWith('.')) queue.push(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
      else bare.push(s);
    }
    graph.set(file, bare);
  }
  return graph;
}

// The entries the admin UI bundles: they must reach no node:*, no Node-only package or module.
const BROWSER_ENTRIES = [
  { name: '@org/core/config', entry: '../src/config/index.ts' },
  { name: '@org/core/setup', entry: '../src/setup/index.ts' },
];

describe.each(BROWSER_ENTRIES)('$name stays browser-safe', ({ entry }) => {
  it('imports nothing but zod and its own pure modules (no node:*, node-forge, yaml)', async () => {
    const graph = await importGraph(resolve(here, entry));
    expect(graph.size).toBeGreaterThan(2);
    for (const [file, bare] of graph) {
      for (const spec of bare) expect(ALLOWED_PACKAGES.has(spec), `${file} imports ${spec}`).toBe(true);
      expect(file.endsWith('load.ts'), `${file} is Node-only`).toBe(false);
      expect(file.includes('/doctor/'), `${file} is the Node-only doctor`).toBe(false);
    }
  });

  it('uses no Node globals (Buffer, process)', async () => {
    const graph = await importGraph(resolve(here, entry));
    for (const file of graph.keys()) {
      const code = (await readFile(file, 'utf8')).replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      expect(/\bBuffer\.\w|\bprocess\.(?:env|cwd|platform|versions|argv)\b/.test(code), file).toBe(false);
    }
  });
});
