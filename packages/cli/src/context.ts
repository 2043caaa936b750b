import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { getProxyForUrl } from 'proxy-from-env';
import { Output, type CliIo } from './output.js';

/** A wrong invocation: exit code 2, message for the human. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'USAGE';
  readonly transient = false;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  server: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean', default: false },
  'no-color': { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpec;

export type GlobalValues = {
  config?: string;
  server?: string;
  ca?: string;
  json: boolean;
  'no-color': boolean;
  quiet: boolean;
  help: boolean;
};

/** Parses a command's argv with the global options added; unknown options are usage errors. */
export function parseCommandArgs<T extends OptionSpec>(
  argv: string[],
  options: T,
  allowPositionals = false,
): { values: GlobalValues & Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals,
      strict: true,
    });
    return {
      values: values as GlobalValues & Record<string, string | boolean | string[] | undefined>,
      positionals,
    };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

/** What every command gets: parsed globals, output, I/O and lazy access to core. */
export interface CommandContext {
  io: CliIo;
  out: Output;
  globals: GlobalValues;
}

export function createContext(io: CliIo, globals: GlobalValues): CommandContext {
  return {
    io,
    out: new Output(io, { json: globals.json, quiet: globals.quiet, noColor: globals['no-color'] }),
    globals,
  };
}

/** Loads @org/core on demand (it pulls in msal and nodemailer) and wires its redaction into the output. */
export async function loadCore(ctx: CommandContext): Promise<typeof import('@org/core')> {
  const core = await import('@org/core');
  ctx.out.setRedactor(core.redactSecrets);
  return core;
}

/** The extra CA (PEM) given with --ca, if any. */
export async function readCa(ctx: CommandContext): Promise<string | undefined> {
  if (!ctx.globals.ca) return undefined;
  try {
    return await readFile(resolve(ctx.io.cwd, ctx.globals.ca), 'utf8');
  } catch (err) {
    throw new UsageError(
      `Cannot read --ca ${ctx.globals.ca} (${(err as { code?: string }).code ?? 'error'})`,
    );
  }
}

/**
 * The CA certificates to trust: the entry's `tls.ca` plus `--ca` (added, as the help says — not
 * replacing the configured one).
 */
export function withConfigCa(
  config: { tls?: { ca?: string | undefined } | undefined },
  cliCa: string | undefined,
): string | undefined {
  const configured = config.tls?.ca;
  if (!cliCa) return configured;
  return configured ? `${configured.trimEnd()}\n${cliCa}` : cliCa;
}

/**
 * The proxy of the environment for core's token requests: `HTTPS_PROXY` / `https_proxy` (or
 * `ALL_PROXY`) unless `NO_PROXY` exempts the token host — read by proxy-from-env, per target URL. An
 * entry's own `proxy.url` wins (core applies it). `undefined` when no proxy variable is set.
 */
export function environmentProxy(ctx: CommandContext): ((url: string) => string | undefined) | undefined {
  const env = ctx.io.env;
  const set = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'].some((k) => env[k]);
  if (!set) return undefined;
  return (url) => getProxyForUrl(url) || undefined;
}

const CONFIG_FILES = ['smtp-oauth.config.json', 'smtp-oauth.config.yaml', 'smtp-oauth.config.yml'];

/** Where the configuration comes from, in discovery order. */
export function discoverConfig(
  ctx: CommandContext,
): { kind: 'file'; path: string } | { kind: 'env' } | undefined {
  if (ctx.globals.config) return { kind: 'file', path: resolve(ctx.io.cwd, ctx.globals.config) };
  const fromEnv = ctx.io.env.SMTP_OAUTH_CONFIG;
  if (fromEnv) return { kind: 'file', path: resolve(ctx.io.cwd, fromEnv) };
  for (const name of CONFIG_FILES) {
    const path = resolve(ctx.io.cwd, name);
    if (existsSync(path)) return { kind: 'file', path };
  }
  if (Object.keys(ctx.io.env).some((k) => k.startsWith('SMTP_OAUTH_') && k !== 'SMTP_OAUTH_CONFIG'))
    return { kind: 'env' };
  return undefined;
}

type Core = typeof import('@org/core');
export type LoadedEntry = {
  config: import('@org/core').EmailServerConfig;
  warnings: import('@org/core').ConfigWarning[];
  source: string;
};

/** Loads and validates the entry to use (core does the loading and validation). */
export async function loadEntry(ctx: CommandContext, core: Core): Promise<LoadedEntry> {
  const where = discoverConfig(ctx);
  if (!where)
    throw new UsageError(
      'No configuration found.',
      'Create one with `smtp-oauth config init`, pass --config FILE, set SMTP_OAUTH_CONFIG, or set SMTP_OAUTH_* variables.',
    );
  if (where.kind === 'env') {
    const { config, warnings } = await core.configFromEnv(ctx.io.env);
    return { config, warnings, source: 'environment (SMTP_OAUTH_*)' };
  }
  const loaded = await core.loadConfigFile(where.path, { env: ctx.io.env });
  const wanted = ctx.globals.server;
  const names = loaded.servers.map((s) => s.name);
  let config = loaded.servers[0];
  if (wanted) {
    config = loaded.servers.find((s) => s.name === wanted);
    if (!config)
      throw new UsageError(`No entry named "${wanted}" in ${where.path}; entries: ${names.join(', ')}`);
  } else if (loaded.servers.length > 1)
    throw new UsageError(
      `${where.path} holds ${names.length} entries; choose one with --server (${names.join(', ')})`,
    );
  if (!config) throw new UsageError(`${where.path} holds no entries`);
  const prefix = loaded.servers.length > 1 ? `servers.${loaded.servers.indexOf(config)}.` : '';
  const warnings = loaded.warnings.filter((w) => !prefix || w.path.startsWith(prefix));
  return { config, warnings, source: where.path };
}
