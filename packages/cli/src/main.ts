import { COMMAND_HELP, MAIN_HELP } from './help.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';

const VALUE_GLOBALS = new Set(['--config', '--server', '--ca']);
const BOOLEAN_GLOBALS = new Set(['--json', '--no-color', '--quiet', '-q']);

/** A command: parses its own options from argv and returns an exit code. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  send: () => import('./commands/send.js'),
  doctor: () => import('./commands/doctor.js'),
  token: () => import('./commands/token.js'),
  config: () => import('./commands/config.js'),
  sandbox: () => import('./commands/sandbox.js'),
  relay: () => import('./commands/relay.js'),
};

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 * Never calls `process.exit`, so it can be embedded and tested in-process.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  // Global options may come before the command: `smtp-oauth --config x.json doctor`.
  let at = 0;
  while (at < argv.length) {
    const arg = argv[at] as string;
    if (VALUE_GLOBALS.has(arg)) at += 2;
    else if (BOOLEAN_GLOBALS.has(arg) || /^--(config|server|ca)=/.test(arg)) at += 1;
    else break;
  }
  const name = argv[at];
  const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  const load = name ? COMMANDS[name] : undefined;
  if (!load) {
    io.stderr.write(`smtp-oauth: unknown command "${name ?? ''}"\n\n${MAIN_HELP}`);
    return ExitCode.Usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(COMMAND_HELP[name as string] ?? MAIN_HELP);
    return ExitCode.Ok;
  }
  const command = (await load()).default;
  return command(rest, io);
}
