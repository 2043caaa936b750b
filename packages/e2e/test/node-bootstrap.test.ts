// The README's two commands start with `eval "$(scripts/node.sh)"`: it must keep a Node that is 22 or
// newer (no second download for users who have one) and hand back Node 24 when the shell has no usable
// Node at all (the same branch a machine with the end-of-life Node 20 takes).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = new URL('../../../scripts/node.sh', import.meta.url).pathname;
const npmDir = dirname((await run('sh', ['-c', 'command -v npm'])).stdout.trim());
const scratch = mkdtempSync(join(tmpdir(), 'node-bootstrap-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The user's environment (CA bundles, proxies) minus what pnpm adds for its scripts.
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(npm_|PNPM|VITEST)/i.test(k)),
);

/** PATH with only the basics, plus `dir` first. */
const path = (dir?: string) =>
  [dir, '/usr/local/sbin', '/usr/sbin', '/sbin', '/bin'].filter(Boolean).join(':');

describe('scripts/node.sh', () => {
  it('keeps the Node on PATH when it is 22 or newer: nothing to export, nothing fetched', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    const { stdout, stderr } = await run('sh', [script], {
      env: { ...userEnv, PATH: path(dirname(process.execPath)) },
    });
    expect(stdout.trim()).toBe('');
    expect(stderr).toContain(`using ${process.execPath} v${process.versions.node}`);
  });

  it('hands back Node 24 (from the npm registry, cached) when the Node on PATH is 20', async () => {
    // A real Node 20, fetched by the script itself (any major line works the same way), stands for
    // the end-of-life Node of the machine; npm then runs on it, as it would there.
    const home = process.env.HOME ?? scratch;
    const exportsOf = (stdout: string) =>
      Object.fromEntries([...stdout.matchAll(/^export (\w+)="([^"]*)"$/gm)].map((m) => [m[1], m[2]]));
    const old = exportsOf(
      (
        await run('sh', [script, '20'], {
          env: { ...userEnv, HOME: home, PATH: path(`${dirname(process.execPath)}:${npmDir}:/usr/bin`) },
        })
      ).stdout,
    );
    const oldBin = join(old.npm_config_nodedir ?? '', 'bin');
    expect((await run(join(oldBin, 'node'), ['--version'])).stdout).toMatch(/^v20\./);

    const { stdout } = await run('sh', [script], {
      env: { ...userEnv, HOME: home, PATH: path(`${oldBin}:${npmDir}:/usr/bin`) },
    });
    const exported = exportsOf(stdout);
    expect(exported.npm_config_nodedir).toMatch(/node-24\/node_modules\/node-\w+-\w+$/);
    const nodeBin = join(exported.npm_config_nodedir ?? '', 'bin', 'node');
    expect((await run(nodeBin, ['--version'])).stdout).toMatch(/^v24\./);
    expect(exported.PATH?.startsWith(`${dirname(nodeBin)}:`)).toBe(true);
  }, 300_000);
});
