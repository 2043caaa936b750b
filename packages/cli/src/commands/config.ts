import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type CommandContext, discoverConfig, loadCore, loadEntry, UsageError } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { withContext } from '../main.js';
import type { CliIo } from '../output.js';

const INIT_OPTIONS = {
  preset: { type: 'string' },
  tenant: { type: 'string' },
  'client-id': { type: 'string' },
  mailbox: { type: 'string' },
  from: { type: 'string' },
  credential: { type: 'string' },
  'secret-env': { type: 'string' },
  certificate: { type: 'string' },
  'private-key': { type: 'string' },
  pfx: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'token-endpoint': { type: 'string' },
  scope: { type: 'string' },
  name: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'inline-secrets': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

const DEFAULT_SECRET_ENV = 'SMTP_OAUTH_CLIENT_SECRET';
const DEFAULT_PASSPHRASE_ENV = 'SMTP_OAUTH_PFX_PASSPHRASE';
// Stands in for a secret that lives in an unset variable, so core can validate everything else.
const UNSET_PLACEHOLDER = 'unset-variable-placeholder';

/** A minimal YAML writer for config entries: nested maps, strings (JSON-quoted, valid YAML), numbers. */
function toYaml(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return `${JSON.stringify(value)}\n`;
  const lines: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object') lines.push(`${indent}${k}:\n${toYaml(v, `${indent}  `)}`);
    else lines.push(`${indent}${k}: ${JSON.stringify(v)}\n`);
  }
  return lines.join('');
}

/** Ctrl-C at a prompt: the command ends with exit code 130 (128 + SIGINT), without a stack. */
class PromptCancelled extends Error {}

/** Why an answer cannot be used (asked again with this reason), or `undefined` when it can. */
type AnswerCheck = (answer: string) => string | undefined;

interface Prompter {
  ask(question: string, fallback?: string, check?: AnswerCheck): Promise<string>;
  choose(
    question: string,
    choices: readonly { id: string; label: string }[],
    fallback: string,
  ): Promise<string>;
  close(): void;
}

function createPrompter(io: CliIo): Prompter {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdin.isTTY === true });
  // Lines typed ahead of a prompt are queued, not lost.
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  let cancelled = false;
  // In a terminal readline reads Ctrl-C as a key, not a signal: without this the prompt just pauses.
  rl.on('SIGINT', () => {
    cancelled = true;
    io.stderr.write('\n');
    rl.close();
  });
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const next = async (prompt: string): Promise<string> => {
    rl.setPrompt(prompt);
    rl.prompt();
    const queued = lines.shift();
    const line =
      queued ?? (closed ? undefined : await new Promise<string | undefined>((r) => waiting.push(r)));
    if (cancelled) throw new PromptCancelled();
    if (line === undefined) throw new UsageError('input ended before all values were given');
    return line.trim();
  };
  return {
    async ask(question, fallback, check) {
      for (;;) {
        const answer = (await next(`${question}${fallback ? ` [${fallback}]` : ''}: `)) || fallback || '';
        const problem = answer && check ? check(answer) : undefined;
        if (!problem) return answer;
        // Regression: the first bad answer ended `config init`; now the reason is shown and the
        // question asked again.
        io.stderr.write(`  ${problem}; try again (Ctrl-C to stop)\n`);
      }
    },
    async choose(question, choices, fallback) {
      io.stderr.write(`${question}\n`);
      choices.forEach((c, i) => {
        io.stderr.write(`  ${i + 1}) ${c.label}${c.id === fallback ? ' (default)' : ''}\n`);
      });
      for (;;) {
        const answer = await next('> ');
        if (!answer) return fallback;
        const byIndex = choices[Number(answer) - 1];
        if (byIndex) return byIndex.id;
        const byId = choices.find((c) => c.id === answer);
        if (byId) return byId.id;
        io.stderr.write(`Choose 1–${choices.length}.\n`);
      }
    },
    close: () => rl.close(),
  };
}

async function init(ctx: CommandContext, v: Record<string, unknown>): Promise<number> {
  const core = await loadCore(ctx);
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const interactive = !v.yes && ctx.io.stdin.isTTY === true && !ctx.globals.json;
  const prompter = interactive ? createPrompter(ctx.io) : undefined;
  const need = async (
    flag: string,
    question: string,
    fallback?: string,
    check?: AnswerCheck,
  ): Promise<string> => {
    const given = str(flag);
    if (given !== undefined) return given;
    if (prompter) {
      const answer = await prompter.ask(question, fallback, check);
      if (answer) return answer;
    } else if (fallback !== undefined) return fallback;
    throw new UsageError(
      `--${flag} is required`,
      'Run `smtp-oauth config init` on a terminal to be asked, or pass all values as flags.',
    );
  };

  try {
    const presets = core.configPresets;
    let presetId = str('preset');
    if (!presetId)
      presetId = prompter
        ? await prompter.choose(
            'Which service?',
            presets.map((p) => ({ id: p.id, label: p.label })),
            'microsoft365',
          )
        : 'microsoft365';
    const preset = presets.find((p) => p.id === presetId);
    if (!preset) throw new UsageError(`--preset must be one of ${presets.map((p) => p.id).join(', ')}`);

    let tenant: string | undefined;
    if (preset.cloud)
      tenant = await need(
        'tenant',
        'Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com',
        undefined,
        (t) => core.tenantProblem(t),
      );
    const presetValues = core.applyPreset(preset, tenant ? { tenant } : {});
    const host = str('host') ?? presetValues.host ?? (await need('host', 'SMTP host'));
    const port = Number(str('port') ?? presetValues.port);
    if (!Number.isInteger(port)) throw new UsageError('--port must be a number');
    const tokenEndpoint =
      str('token-endpoint') ??
      presetValues.auth.tokenEndpoint ??
      (await need('token-endpoint', 'Token endpoint URL'));
    const scope = str('scope') ?? presetValues.auth.scope ?? (await need('scope', 'Scope'));
    const clientId = await need('client-id', 'Application (client) ID', undefined, (id) =>
      preset.cloud && !core.isGuid(id)
        ? 'must be the Application (client) ID, a GUID like 11111111-2222-3333-4444-555555555555'
        : undefined,
    );
    let kind = str('credential');
    if (!kind)
      kind = prompter
        ? await prompter.choose(
            'Credential?',
            [
              { id: 'secret', label: 'Client secret (read from an environment variable)' },
              { id: 'certificate', label: 'Certificate + private key (PEM files) — recommended' },
              { id: 'pfx', label: 'PKCS#12 / PFX file' },
            ],
            'secret',
          )
        : 'secret';
    const outputPath = resolve(ctx.io.cwd, str('output') ?? 'smtp-oauth.config.json');
    const fileRef = (path: string) => {
      const rel = relative(dirname(outputPath), resolve(ctx.io.cwd, path));
      return `file:${rel.startsWith('.') ? rel : `./${rel}`}`;
    };
    const fileExists = (path: string) =>
      existsSync(resolve(ctx.io.cwd, path)) ? undefined : `${resolve(ctx.io.cwd, path)} does not exist`;
    const secretEnv = str('secret-env') ?? DEFAULT_SECRET_ENV;
    const envForCheck: Record<string, string | undefined> = { ...ctx.io.env };
    const unsetVariables: string[] = [];
    const envRef = (name: string) => {
      if (!ctx.io.env[name]) {
        unsetVariables.push(name);
        envForCheck[name] = UNSET_PLACEHOLDER;
      }
      return `env:${name}`;
    };
    let credential: Record<string, string>;
    if (kind === 'secret') {
      if (v['inline-secrets']) {
        const value = ctx.io.env[secretEnv];
        if (!value)
          throw new UsageError(`--inline-secrets reads the secret from ${secretEnv}, which is not set`);
        credential = { kind: 'secret', secret: value };
      } else credential = { kind: 'secret', secret: envRef(secretEnv) };
    } else if (kind === 'certificate') {
      const cert = await need('certificate', 'Certificate PEM file', undefined, fileExists);
      const key = await need('private-key', 'Private key PEM file', undefined, fileExists);
      credential = { kind: 'certificate', certificatePem: fileRef(cert), privateKeyPem: fileRef(key) };
    } else if (kind === 'pfx') {
      const pfx = await need('pfx', 'PFX file', undefined, fileExists);
      credential = { kind: 'pfx', pfxBase64: fileRef(pfx), passphrase: envRef(DEFAULT_PASSPHRASE_ENV) };
    } else throw new UsageError('--credential must be secret, certificate or pfx');

    const address = (a: string) => {
      const problem = core.addressProblem(a);
      return problem ? `is not an email address: ${problem}` : undefined;
    };
    const mailbox = await need(
      'mailbox',
      'Mailbox that sends (SMTP user), e.g. noreply@contoso.com',
      undefined,
      address,
    );
    const from =
      str('from') ?? (prompter ? await prompter.ask('Default From address', mailbox, address) : mailbox);
    const name = str('name') ?? 'default';
    const entry = {
      name,
      host,
      port,
      security: port === 465 ? 'tls' : presetValues.security,
      user: mailbox,
      ...(from && from !== mailbox ? { from } : {}),
      auth: {
        type: 'oauth2',
        provider: presetValues.auth.provider,
        tokenEndpoint,
        clientId,
        scope,
        credential,
      },
    };
    const yaml = ['.yaml', '.yml'].includes(extname(outputPath).toLowerCase());
    const text = yaml ? toYaml(entry) : `${JSON.stringify(entry, null, 2)}\n`;

    // Core validates the entry exactly as it will be loaded later (references and files included).
    await core.loadConfigFile(outputPath, {
      env: envForCheck,
      readFile: async (path) => (path === outputPath ? new TextEncoder().encode(text) : readFile(path)),
    });

    if (existsSync(outputPath) && !v.force) {
      const overwrite = prompter
        ? (await prompter.ask(`${outputPath} exists. Overwrite? (y/N)`, 'n')).toLowerCase()
        : 'n';
      if (!overwrite.startsWith('y'))
        throw new UsageError(`${outputPath} exists; pass --force to overwrite it`);
    }
    await writeFile(outputPath, text, { mode: v['inline-secrets'] ? 0o600 : 0o644 });

    if (ctx.globals.json) {
      ctx.out.json({
        ok: true,
        path: outputPath,
        unsetVariables,
        inlineSecrets: v['inline-secrets'] === true,
      });
      return ExitCode.Ok;
    }
    ctx.out.line(`${ctx.out.symbols.ok} wrote ${outputPath}`);
    for (const name of unsetVariables) ctx.out.line(`  set ${name} before use, e.g. export ${name}='…'`);
    ctx.out.line('  next: smtp-oauth config validate && smtp-oauth doctor');
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof PromptCancelled) return 130;
    throw err;
  } finally {
    prompter?.close();
  }
}

async function validate(ctx: CommandContext): Promise<number> {
  const core = await loadCore(ctx);
  const where = discoverConfig(ctx);
  if (!where)
    throw new UsageError('No configuration found.', 'Pass --config FILE or run `smtp-oauth config init`.');
  const loaded =
    where.kind === 'file'
      ? { ...(await core.loadConfigFile(where.path, { env: ctx.io.env })), source: where.path }
      : await core.configFromEnv(ctx.io.env).then((r) => ({
          servers: [r.config],
          warnings: r.warnings,
          source: 'environment (SMTP_OAUTH_*)',
        }));
  if (ctx.globals.json) {
    ctx.out.json({
      ok: true,
      source: loaded.source,
      servers: loaded.servers.map((s) => s.name),
      warnings: loaded.warnings,
    });
    return ExitCode.Ok;
  }
  ctx.out.line(
    `${ctx.out.symbols.ok} ${loaded.source}: ${loaded.servers.map((s) => s.name).join(', ')} valid`,
  );
  for (const w of loaded.warnings) ctx.out.warn(`${ctx.out.symbols.warn} ${w.path}: ${w.message}`);
  return ExitCode.Ok;
}

async function show(ctx: CommandContext): Promise<number> {
  const core = await loadCore(ctx);
  const entry = await loadEntry(ctx, core);
  const redacted = core.redactConfig(entry.config);
  if (ctx.globals.json) ctx.out.json({ source: entry.source, config: redacted, warnings: entry.warnings });
  else {
    ctx.out.line(ctx.out.style('dim', `# ${entry.source}`));
    ctx.out.line(JSON.stringify(redacted, null, 2));
  }
  return ExitCode.Ok;
}

async function schema(ctx: CommandContext): Promise<number> {
  const core = await loadCore(ctx);
  ctx.out.data(JSON.stringify(core.configJsonSchema(), null, 2));
  return ExitCode.Ok;
}

export default function config(argv: string[], io: CliIo): Promise<number> {
  return withContext(
    argv,
    io,
    INIT_OPTIONS,
    async (ctx, values, positionals) => {
      const [sub, ...extra] = positionals;
      if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
      if (sub !== 'init') {
        const initOnly = Object.keys(INIT_OPTIONS).filter(
          (k) =>
            values[k] !== undefined &&
            values[k] !== false &&
            argv.some((a) => a === `--${k}` || a.startsWith(`--${k}=`)),
        );
        if (initOnly.length) throw new UsageError(`--${initOnly[0]} is an option of \`config init\``);
      }
      switch (sub) {
        case 'init':
          return init(ctx, values);
        case 'validate':
          return validate(ctx);
        case 'show':
          return show(ctx);
        case 'schema':
          return schema(ctx);
        default:
          throw new UsageError(
            sub ? `unknown subcommand "config ${sub}"` : 'missing subcommand',
            'Use: smtp-oauth config init | validate | show | schema',
          );
      }
    },
    true,
  );
}
