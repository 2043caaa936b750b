import { COMMAND_HELP, MAIN_HELP } from './help.js';
import {
  type CommandContext,
  createContext,
  type GlobalValues,
  parseCommandArgs,
  UsageError,
} from './context.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
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

/** Shared error reporting: JSON document or `error CODE: message` + hint on stderr. */
export function reportError(ctx: CommandContext, err: unknown): number {
  const code = exitCodeFor(err);
  const e = err as {
    code?: string;
    message?: string;
    hint?: string;
    issues?: { path: string; message: string }[];
    toJSON?: () => unknown;
  };
  if (ctx.globals.json) {
    const error =
      typeof e?.toJSON === 'function'
        ? e.toJSON()
        : {
            code: e?.code ?? 'INTERNAL',
            message: e?.message ?? String(err),
            ...(e?.hint ? { hint: e.hint } : {}),
          };
    ctx.out.json({ ok: false, exitCode: code, error });
    return code;
  }
  const out = ctx.out;
  if (e?.issues?.length) {
    out.error(`${out.style('red', 'error')} ${e.code}: invalid configuration${sourceOf(err)}`);
    for (const issue of e.issues)
      out.error(`  ${out.style('bold', issue.path || '(entry)')}: ${issue.message}`);
  } else {
    out.error(
      `${out.style('red', 'error')}${e?.code && e.code !== 'USAGE' ? ` ${e.code}` : ''}: ${e?.message ?? String(err)}`,
    );
  }
  if (e?.hint) out.error(`${out.style('cyan', 'hint')}: ${e.hint}`);
  if (code === ExitCode.Internal && err instanceof Error && err.stack && ctx.io.env.SMTP_OAUTH_DEBUG)
    out.error(err.stack);
  return code;
}

function sourceOf(err: unknown): string {
  const details = (err as { details?: { source?: unknown } }).details;
  return typeof details?.source === 'string' ? ` in ${details.source}` : '';
}

/** Wraps a command body: parses globals, builds the context, maps thrown errors to exit codes. */
export async function withContext(
  argv: string[],
  io: CliIo,
  options: Parameters<typeof parseCommandArgs>[1],
  body: (ctx: CommandContext, values: Record<string, unknown>, positionals: string[]) => Promise<number>,
  allowPositionals = false,
): Promise<number> {
  let globals: GlobalValues = { json: argv.includes('--json'), 'no-color': false, quiet: false, help: false };
  let ctx = createContext(io, globals);
  try {
    const { values, positionals } = parseCommandArgs(argv, options, allowPositionals);
    globals = values;
    ctx = createContext(io, globals);
    return await body(ctx, values, positionals);
  } catch (err) {
    if (err instanceof UsageError && !ctx.globals.json) {
      ctx.out.error(`smtp-oauth: ${err.message}`);
      if (err.hint) ctx.out.error(err.hint);
      return ExitCode.Usage;
    }
    return reportError(ctx, err);
  }
}
