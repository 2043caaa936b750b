#!/usr/bin/env node
/**
 * Entry point. `--version` and `--help` are answered from here without loading anything heavy;
 * everything else is imported on demand so a cold start stays close to `node -e 0`.
 */
import { readFileSync } from 'node:fs';

// A reader that stops early (`smtp-oauth doctor --verbose | head -1`) closes the pipe. That ends
// the output, not in an EPIPE stack trace: exit quietly, as `cat` and `grep` do.
// The reader chose to stop: that is not an unsettled operation (the exit check below stays quiet).
let pipeClosed = false;
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      pipeClosed = true;
      process.exit(process.exitCode ?? 0);
    }
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
  // Exit codes are a contract (0–6, see --help). Whatever goes wrong inside, the process ends with
  // one of them and a message: never Node's 13 ("unsettled top-level await", which is what an
  // operation nothing keeps alive produces) and never a silent exit.
  let settled = false;
  const internal = (what: string, err?: unknown) => {
    const detail = err instanceof Error ? err.message : err === undefined ? '' : String(err);
    process.stderr.write(`smtp-oauth: internal error: ${what}${detail ? `: ${detail}` : ''}\n`);
    if (err instanceof Error && err.stack && process.env.SMTP_OAUTH_DEBUG)
      process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  };
  process.on('unhandledRejection', (err) => {
    internal('unhandled rejection', err);
    process.exit(1);
  });
  process.on('exit', () => {
    // Regression: a send waiting on an unref'd timer ended the process with exit 13 and no output.
    if (!settled && !pipeClosed) internal('the command ended before its operation settled');
  });
  try {
    const { run } = await import('../main.js');
    process.exitCode = await run(argv, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      cwd: process.cwd(),
    });
  } catch (err) {
    internal('unexpected failure', err);
  } finally {
    settled = true;
  }
}
