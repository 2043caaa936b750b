import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin/testkit.js', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return !alive(pid);
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line: ${text}`)), 60_000);
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.slice(0, text.indexOf('\n')));
      }
    });
  });
}

// Regression: the Python example's `npx testkit start` outlived the script (npx re-parents its
// child), keeping its ports.
describe('testkit start ends with whoever started it', () => {
  it('exits when its piped stdin closes', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--json'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    JSON.parse(await firstLine(child.stdout));
    child.stdin.end();
    expect(await exited).toBe(0);
  }, 120_000);

  it('exits when its parent is killed with SIGKILL (stdin not a pipe)', async () => {
    // The parent starts the testkit with stdin from /dev/null, reports its pid, and is then killed.
    const parentScript = `
      const { spawn } = require('node:child_process');
      const kit = spawn(process.execPath, [${JSON.stringify(BIN)}, 'start', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
      kit.stdout.once('data', () => process.stdout.write(kit.pid + '\\n'));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await firstLine(parent.stdout));
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await gone(pid, 30_000)).toBe(true);
  }, 120_000);
});
