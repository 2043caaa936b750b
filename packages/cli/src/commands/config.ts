import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type CommandContext, discoverConfig, loadCore, loadEntry, readCa, UsageError } from '../context.js';
import { ExitCode, exitCodeForStep } from '../exit-codes.js';
import { renderStep } from './doctor.js';
import { withContext } from '../report.js';
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

/** Options of `config migrate` that `init` does not have. */
const MIGRATE_ONLY_OPTIONS = {
  'permission-model': { type: 'string' },
  'send-test-to': { type: 'string' },
  'no-doctor': { type: 'boolean', default: false },
} as const;

/** Init options `config migrate` shares: it asks only for tenant, client ID and credential. */
const MIGRATE_SHARED = new Set([
  'tenant',
  'client-id',
  'credential',
  'secret-env',
  'certificate',
  'private-key',
  'pfx',
  'token-endpoint',
  'output',
  'yes',
]);

const CONFIG_OPTIONS = { ...INIT_OPTIONS, ...MIGRATE_ONLY_OPTIONS } as const;

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

/** `--permission-model`: how Exchange authorizes the app (`auth.permissionModel`). */
function permissionModelFlag(value: string | undefined): 'mailbox' | 'rbac' | undefined {
  if (value === undefined || value === 'mailbox' || value === 'rbac') return value;
  throw new UsageError("--permission-model must be 'mailbox' or 'rbac'");
}

type Need = (flag: string, question: string, fallback?: string, check?: AnswerCheck) => Promise<string>;

/**
 * A value from its flag, else asked on a terminal (again, with the reason, while `check` refuses
 * it), else the fallback; otherwise a usage error naming the flag. One rule for init and migrate.
 */
function needFrom(
  str: (flag: string) => string | undefined,
  prompter: ReturnType<typeof createPrompter> | undefined,
  hint: string,
): Need {
  return async (flag, question, fallback, check) => {
    const given = str(flag);
    if (given !== undefined) return given;
    if (prompter) {
      const answer = await prompter.ask(question, fallback, check);
      if (answer) return answer;
    } else if (fallback !== undefined) return fallback;
    throw new UsageError(`--${flag} is required`, hint);
  };
}

/**
 * The credential part of an entry, as references: a secret from an environment variable, PEM or
 * PFX files relative to the config file. Shared by `init` and `migrate`.
 */
async function askCredential(
  ctx: CommandContext,
  v: Record<string, unknown>,
  kind: string,
  need: Need,
  outputPath: string,
): Promise<{
  credential: Record<string, string>;
  envForCheck: Record<string, string | undefined>;
  unsetVariables: string[];
}> {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
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
  return { credential, envForCheck, unsetVariables };
}

const CREDENTIAL_CHOICES = [
  { id: 'secret', label: 'Client secret (read from an environment variable)' },
  { id: 'certificate', label: 'Certificate + private key (PEM files) — recommended' },
  { id: 'pfx', label: 'PKCS#12 / PFX file' },
] as const;

/**
 * The SHA-256 thumbprint of a loaded entry's certificate, the thumbprint MSAL recommends (it signs
 * assertions PS256 with `x5t#S256`; SHA-1 `x5t` is deprecated). Undefined for a secret, and for a
 * PFX whose passphrase is not available yet.
 */
function sha256Thumbprint(
  core: typeof import('@org/core'),
  entry: import('@org/core').EmailServerConfig | undefined,
): string | undefined {
  if (entry?.auth.type !== 'oauth2' || entry.auth.credential.kind === 'secret') return undefined;
  try {
    return core.loadCertificateCredential(entry.auth.credential).thumbprintSha256;
  } catch {
    return undefined;
  }
}

async function init(ctx: CommandContext, v: Record<string, unknown>): Promise<number> {
  const core = await loadCore(ctx);
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const interactive = !v.yes && ctx.io.stdin.isTTY === true && !ctx.globals.json;
  const prompter = interactive ? createPrompter(ctx.io) : undefined;
  const need = needFrom(
    str,
    prompter,
    'Run `smtp-oauth config init` on a terminal to be asked, or pass all values as flags.',
  );

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
    const permissionModel = permissionModelFlag(str('permission-model'));
    const clientId = await need('client-id', 'Application (client) ID', undefined, (id) =>
      preset.cloud && !core.isGuid(id)
        ? 'must be the Application (client) ID, a GUID like 11111111-2222-3333-4444-555555555555'
        : undefined,
    );
    let kind = str('credential');
    if (!kind)
      kind = prompter ? await prompter.choose('Credential?', CREDENTIAL_CHOICES, 'secret') : 'secret';
    const outputPath = resolve(ctx.io.cwd, str('output') ?? 'smtp-oauth.config.json');
    const cred = await askCredential(ctx, v, kind, need, outputPath);
    const { credential, envForCheck, unsetVariables } = cred;

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
        ...(permissionModel && { permissionModel }),
      },
    };
    const yaml = ['.yaml', '.yml'].includes(extname(outputPath).toLowerCase());
    const text = yaml ? toYaml(entry) : `${JSON.stringify(entry, null, 2)}\n`;

    // Core validates the entry exactly as it will be loaded later (references and files included).
    const loaded = await core.loadConfigFile(outputPath, {
      env: envForCheck,
      readFile: async (path) => (path === outputPath ? new TextEncoder().encode(text) : readFile(path)),
    });
    // New certificate entries name the certificate by its SHA-256 thumbprint (MSAL's x5t#S256).
    const thumbprint = sha256Thumbprint(core, loaded.servers[0]);
    if (thumbprint) (credential as Record<string, string>).thumbprint = thumbprint;
    const finalText = yaml ? toYaml(entry) : `${JSON.stringify(entry, null, 2)}\n`;

    if (existsSync(outputPath) && !v.force) {
      const overwrite = prompter
        ? (await prompter.ask(`${outputPath} exists. Overwrite? (y/N)`, 'n')).toLowerCase()
        : 'n';
      if (!overwrite.startsWith('y'))
        throw new UsageError(`${outputPath} exists; pass --force to overwrite it`);
    }
    await writeFile(outputPath, finalText, { mode: v['inline-secrets'] ? 0o600 : 0o644 });

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

/** Reads a config file as written (references unresolved), keeping YAML comments for the rewrite. */
async function readConfigDocument(path: string): Promise<{
  yaml: boolean;
  data: unknown;
  /** The document with entry `index` (of `servers`, or the single entry) replaced by `entry`. */
  serialize(index: number, entry: unknown): string;
}> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${path} (${(err as { code?: string }).code ?? 'error'})`);
  }
  if (['.yaml', '.yml'].includes(extname(path).toLowerCase())) {
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(text);
    if (doc.errors.length) throw new UsageError(`${path} is not valid YAML: ${doc.errors[0]?.message}`);
    return {
      yaml: true,
      data: doc.toJS(),
      serialize(index, entry) {
        // Replace only the entry that changed, so comments and the other entries stay as written.
        if (doc.has('servers')) doc.setIn(['servers', index], doc.createNode(entry));
        else doc.contents = doc.createNode(entry) as typeof doc.contents;
        return doc.toString();
      },
    };
  }
  try {
    const data = JSON.parse(text) as { servers?: unknown[] };
    return {
      yaml: false,
      data,
      serialize: (index, entry) => {
        const next = Array.isArray(data?.servers)
          ? { ...data, servers: data.servers.map((e, k) => (k === index ? entry : e)) }
          : entry;
        return `${JSON.stringify(next, null, 2)}\n`;
      },
    };
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}

/**
 * `config migrate`: turns a password entry into an OAuth2 entry with core's `migrateToOAuth2`
 * (host, port and mailbox kept; asks only for tenant, client ID and credential), validates the file
 * as it will be loaded, writes it, then runs the doctor on the new entry.
 */
async function migrate(ctx: CommandContext, v: Record<string, unknown>): Promise<number> {
  const core = await loadCore(ctx);
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const where = discoverConfig(ctx);
  if (where?.kind !== 'file')
    throw new UsageError(
      where
        ? 'config migrate rewrites a config file; the entry comes from SMTP_OAUTH_* variables.'
        : 'No configuration found.',
      where
        ? 'Set SMTP_OAUTH_TENANT, SMTP_OAUTH_CLIENT_ID and SMTP_OAUTH_CLIENT_SECRET (or SMTP_OAUTH_CERTIFICATE) and unset SMTP_OAUTH_PASSWORD, or pass --config FILE.'
        : 'Pass --config FILE with the password entry to move.',
    );
  const permissionModel = permissionModelFlag(str('permission-model'));

  const document = await readConfigDocument(where.path);
  const data = document.data as { servers?: unknown[] } & Record<string, unknown>;
  const entries = (Array.isArray(data?.servers) ? data.servers : [data]) as Array<Record<string, unknown>>;
  const isPassword = (e: Record<string, unknown>) =>
    (e?.auth as { type?: unknown } | undefined)?.type === 'password';
  const wanted = ctx.globals.server;
  let index: number;
  if (wanted) {
    index = entries.findIndex((e) => e?.name === wanted);
    if (index < 0)
      throw new UsageError(
        `No entry named "${wanted}" in ${where.path}; entries: ${entries.map((e) => String(e?.name)).join(', ')}`,
      );
  } else {
    const candidates = entries.flatMap((e, i) => (isPassword(e) ? [i] : []));
    if (candidates.length === 0)
      throw new UsageError(`${where.path} holds no password entry; nothing to move to OAuth2`);
    if (candidates.length > 1)
      throw new UsageError(
        `${where.path} holds ${candidates.length} password entries; choose one with --server (${candidates.map((i) => String(entries[i]?.name)).join(', ')})`,
      );
    index = candidates[0] as number;
  }
  const source = entries[index] as Record<string, unknown>;
  if (!isPassword(source))
    throw new UsageError(
      `Entry "${String(source.name)}" does not use a password (auth.type is ${JSON.stringify((source.auth as { type?: unknown })?.type)}); nothing to move`,
    );

  const interactive = !v.yes && ctx.io.stdin.isTTY === true && !ctx.globals.json;
  const prompter = interactive ? createPrompter(ctx.io) : undefined;
  const need = needFrom(
    str,
    prompter,
    'Run `smtp-oauth config migrate` on a terminal to be asked, or pass --tenant, --client-id and the credential as flags.',
  );

  let outputPath: string;
  let text: string;
  let unsetVariables: string[];
  let name: string;
  try {
    if (!ctx.globals.json)
      ctx.out.line(
        `Moving "${String(source.name)}" (${String(source.host)}, mailbox ${String(source.user)}) from password to OAuth2.`,
      );
    const tokenEndpoint = str('token-endpoint');
    const tenant = tokenEndpoint
      ? undefined
      : await need('tenant', 'Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com');
    const clientId = await need('client-id', 'Application (client) ID');
    let kind = str('credential');
    if (!kind)
      kind = prompter ? await prompter.choose('Credential?', CREDENTIAL_CHOICES, 'secret') : 'secret';
    outputPath = resolve(ctx.io.cwd, str('output') ?? where.path);
    const cred = await askCredential(ctx, v, kind, need, outputPath);
    unsetVariables = cred.unsetVariables;
    const migrated = core.migrateToOAuth2(source as unknown as import('@org/core').PasswordEntrySource, {
      ...(tenant !== undefined && { tenant }),
      ...(tokenEndpoint !== undefined && { tokenEndpoint }),
      clientId,
      credential: cred.credential as import('@org/core').MigrationCredential,
      ...(permissionModel && { permissionModel }),
    });
    name = String(migrated.name);
    const write = () => document.serialize(index, migrated);
    text = write();
    const target = outputPath;
    const loaded = await core.loadConfigFile(target, {
      env: cred.envForCheck,
      readFile: async (path) => (path === target ? new TextEncoder().encode(text) : readFile(path)),
    });
    const thumbprint = sha256Thumbprint(core, loaded.servers[index]);
    if (thumbprint) {
      (cred.credential as Record<string, string>).thumbprint = thumbprint;
      text = write();
    }
  } finally {
    prompter?.close();
  }
  // Keep the file's permissions: it held a password and may still hold other secrets.
  let mode = 0o644;
  try {
    mode = (await stat(outputPath)).mode & 0o777;
  } catch {
    // A new --output file.
  }
  await writeFile(outputPath, text, { mode });

  const runDoctor = !v['no-doctor'] && unsetVariables.length === 0;
  if (!ctx.globals.json) {
    ctx.out.line(
      `${ctx.out.symbols.ok} moved "${name}" to OAuth2 in ${outputPath}; the password is no longer in it`,
    );
    for (const n of unsetVariables) ctx.out.line(`  set ${n} before use, e.g. export ${n}='…'`);
    if (!runDoctor) {
      ctx.out.line('  next: smtp-oauth doctor');
      return ExitCode.Ok;
    }
    ctx.out.line();
    ctx.out.line(ctx.out.style('bold', `smtp-oauth doctor — ${name} (${outputPath})`));
  }
  if (!runDoctor) {
    ctx.out.json({
      ok: true,
      path: outputPath,
      server: name,
      unsetVariables,
      doctor: null,
      exitCode: ExitCode.Ok,
    });
    return ExitCode.Ok;
  }
  const loaded = await core.loadConfigFile(outputPath, { env: ctx.io.env });
  const entry = loaded.servers.find((s) => s.name === name) ?? loaded.servers[index];
  const ca = await readCa(ctx);
  const result = await core.diagnose(entry, {
    ...(str('send-test-to') ? { sendTestTo: str('send-test-to') as string } : {}),
    ...(ca ? { ca } : {}),
    onStep: (step) => {
      if (!ctx.globals.json) for (const l of renderStep(ctx, step, false)) ctx.out.line(l);
    },
  });
  const exitCode = exitCodeForStep(result.steps.find((s) => s.status === 'fail')?.id);
  if (ctx.globals.json) {
    ctx.out.json({ ok: result.ok, path: outputPath, server: name, unsetVariables, doctor: result, exitCode });
    return exitCode;
  }
  ctx.out.line();
  const sym = ctx.out.symbols;
  ctx.out.line(
    result.ok ? `${sym.ok} ${result.summary}` : `${sym.fail} ${ctx.out.style('bold', result.summary)}`,
  );
  return exitCode;
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
    CONFIG_OPTIONS,
    async (ctx, values, positionals) => {
      const [sub, ...extra] = positionals;
      if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const given = Object.keys(CONFIG_OPTIONS).filter(
        (k) =>
          values[k] !== undefined &&
          values[k] !== false &&
          argv.some((a) => a === `--${k}` || a.startsWith(`--${k}=`)),
      );
      const allowed = (k: string) =>
        sub === 'init'
          ? k in INIT_OPTIONS || k === 'permission-model'
          : sub === 'migrate'
            ? MIGRATE_SHARED.has(k) || k in MIGRATE_ONLY_OPTIONS
            : false;
      const misplaced = given.find((k) => !allowed(k));
      if (misplaced)
        throw new UsageError(
          `--${misplaced} is an option of \`config ${misplaced in INIT_OPTIONS ? 'init' : 'migrate'}\``,
        );
      switch (sub) {
        case 'init':
          return init(ctx, values);
        case 'migrate':
          return migrate(ctx, values);
        case 'validate':
          return validate(ctx);
        case 'show':
          return show(ctx);
        case 'schema':
          return schema(ctx);
        default:
          throw new UsageError(
            sub ? `unknown subcommand "config ${sub}"` : 'missing subcommand',
            'Use: smtp-oauth config init | migrate | validate | show | schema',
          );
      }
    },
    true,
  );
}
