/**
 * What every command shares when it fails: the exit code of an error (looked up by the catalog's
 * category) and its report on stderr or as JSON. Commands import this module, never `main.ts`, so
 * `main.ts` can load them lazily without an import cycle.
 */
import { errorCategory } from '@org/core';
import {
  type CommandContext,
  createContext,
  type GlobalValues,
  parseCommandArgs,
  UsageError,
} from './context.js';
import { ExitCode, type ExitCodeValue, exitCodeByCategory } from './exit-codes.js';
import type { CliIo } from './output.js';

/**
 * Maps an error (an `SmtpOAuthError`, its JSON, or anything else) to its exit code: core's
 * {@link errorCategory} looked up in {@link exitCodeByCategory}. A code outside the catalog (e.g. one
 * of the server's own, from `send --server`) is transient or permanent by its `transient` flag.
 */
export function exitCodeFor(err: unknown): ExitCodeValue {
  const e = err as { code?: unknown; transient?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code === 'USAGE') return ExitCode.Usage;
  if (!code || typeof e?.transient !== 'boolean') return ExitCode.Internal;
  const category = errorCategory(err);
  if (category) return exitCodeByCategory[category];
  return e.transient ? ExitCode.Transient : ExitCode.Permanent;
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
