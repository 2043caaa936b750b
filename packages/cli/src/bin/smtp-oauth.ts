#!/usr/bin/env node
/**
 * Entry point. `--version` and `--help` are answered from here without loading anything heavy;
 * everything else is imported on demand so a cold start stays close to `node -e 0`.
 */
import { readFileSync } from 'node:fs';

// A reader that stops early (`smtp-oauth doctor --verbose | head -1`) closes the pipe. That ends
// the output, not in an EPIPE stack trace: exit quietly, as `cat` and `grep` do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

const argv = process.argv.slice(2);
const first = argv[0];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

if (first === '--version' || first === '-v' || (first === 'version' && argv.length === 1)) {
  process.stdout.write(`${version()}\n`);
} else if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
  const { COMMAND_HELP, MAIN_HELP } = await import('../help.js');
  const topic = first === 'help' ? argv[1] : undefined;
  process.stdout.write((topic && COMMAND_HELP[topic]) || MAIN_HELP);
  if (first === undefined) process.exitCode = 2;
} else {
  const { run } = await import('../main.js');
  process.exitCode = await run(argv, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
}
