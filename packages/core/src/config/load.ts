import { readFile as fsReadFile } from 'node:fs/promises';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, type ConfigIssue, SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import { fileEncodingProblem } from './paste-damage.js';
import { type EntraCloud, entraClouds, isEntraLoginHost, tenantProblem } from './microsoft.js';
import { type ConfigWarning, configWarnings, formatPath, issuesFromZod } from './parse.js';
import { type EmailServerConfig, emailServerConfigSchema } from './schema.js';
import { expectObject, expectString } from '../internal/guard.js';
import { CREDENTIAL_FIELDS, type CredentialFieldEncoding } from './secrets.js';

/** I/O seams for loading. Libraries never read `process.env`: the caller passes it. */
export interface LoadConfigOptions {
  /** Variables for `env:NAME` references. @default {} (no variables) */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads files: the config file and `file:PATH` references. @default fs.promises.readFile */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** Directory that relative `file:` paths resolve against. @default the config file's directory */
  baseDir?: string;
}

/** Entries loaded from a file or the environment, validated, with their warnings. */
export interface LoadedConfig {
  servers: EmailServerConfig[];
  warnings: ConfigWarning[];
}

type FieldKind = CredentialFieldEncoding;

/**
 * Fields that may hold `env:NAME` / `file:PATH` references, and how a file's bytes become the value:
 * every credential field (from `config/secrets.ts`) plus the CA certificate.
 */
const REFERENCE_FIELDS: readonly { path: readonly string[]; kind: FieldKind }[] = [
  ...CREDENTIAL_FIELDS.map((f) => ({ path: f.path.split('.'), kind: f.encoding })),
  { path: ['tls', 'ca'], kind: 'text' },
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface ResolveContext {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => Promise<Uint8Array>;
  baseDir: string;
  source: string;
}

function unreadable(field: string, ctx: ResolveContext, message: string, cause?: unknown): SmtpOAuthError {
  return new SmtpOAuthError('CONFIG_FILE_UNREADABLE', `${field} in ${ctx.source}: ${message}`, {
    cause,
    details: { field, source: ctx.source },
  });
}

/**
 * Resolves one `env:NAME` or `file:PATH` reference. Other values are returned unchanged.
 * Errors name the field and the source, never the value.
 */
async function resolveReference(
  value: string,
  kind: FieldKind,
  field: string,
  ctx: ResolveContext,
): Promise<string> {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    if (!ENV_NAME.test(name)) throw unreadable(field, ctx, `"env:${name}" is not a valid variable name`);
    const resolved = ctx.env[name];
    if (resolved === undefined || resolved === '')
      throw unreadable(field, ctx, `environment variable ${name} is not set`);
    return resolved;
  }
  if (value.startsWith('file:')) {
    const rel = value.slice(5);
    if (rel.length === 0) throw unreadable(field, ctx, '"file:" needs a path');
    const path = resolvePath(ctx.baseDir, rel);
    let bytes: Uint8Array;
    try {
      bytes = await ctx.readFile(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw unreadable(field, ctx, `cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`, err);
    }
    if (kind === 'binary') return Buffer.from(bytes).toString('base64');
    const encoding = fileEncodingProblem(bytes);
    if (encoding) throw unreadable(field, ctx, `${path} ${encoding}`);
    const text = new TextDecoder().decode(bytes);
    // Secret files written by `echo` or editors end in a newline that is not part of the secret.
    return kind === 'secret' ? text.replace(/\r?\n$/, '') : text;
  }
  return value;
}

async function resolveReferences(entry: unknown, ctx: ResolveContext, prefix: string): Promise<unknown> {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const copy = structuredClone(entry) as Record<string, unknown>;
  for (const { path, kind } of REFERENCE_FIELDS) {
    let parent: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) {
      const next: unknown = parent?.[key];
      parent =
        next && typeof next === 'object' && !Array.isArray(next)
          ? (next as Record<string, unknown>)
          : undefined;
    }
    const leaf = path[path.length - 1] as string;
    const value = parent?.[leaf];
    if (parent && typeof value === 'string')
      parent[leaf] = await resolveReference(value, kind, `${prefix}${path.join('.')}`, ctx);
  }
  return copy;
}

function parseText(text: string, path: string): unknown {
  const ext = extname(path).toLowerCase();
  const fail = (message: string, cause?: unknown) =>
    new SmtpOAuthError('CONFIG_FILE_UNREADABLE', `${path}: ${message}`, { cause, details: { source: path } });
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      // V8's message quotes the input, which may contain secrets: report only the position.
      const pos = /position (\d+)/.exec(String((err as Error).message))?.[1];
      throw fail(`is not valid JSON${pos ? ` (at character ${pos})` : ''}`);
    }
  }
  try {
    return parseYaml(text, { prettyErrors: false });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      // Computed from the offset: the library's pretty message would quote the (secret) source line.
      const before = text.slice(0, err.pos[0]).split('\n');
      const at = { line: before.length, col: (before[before.length - 1]?.length ?? 0) + 1 };
      throw fail(`is not valid YAML (line ${at.line}, column ${at.col}): ${err.code}`);
    }
    throw fail('is not valid YAML');
  }
}

function stripSchemaKey(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && '$schema' in value) {
    const { $schema: _ignored, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  return value;
}

async function validateEntries(
  raw: unknown,
  ctx: ResolveContext,
  issueNote: (path: string) => string = () => '',
): Promise<LoadedConfig> {
  const doc = stripSchemaKey(raw);
  const multi = !!doc && typeof doc === 'object' && !Array.isArray(doc) && 'servers' in doc;
  let entries: unknown[];
  if (multi) {
    const { servers, ...extra } = doc as Record<string, unknown>;
    if (Object.keys(extra).length > 0)
      throw new ConfigError(
        [
          {
            path: '',
            message: `unknown field(s) ${Object.keys(extra)
              .map((k) => `"${k}"`)
              .join(', ')} next to "servers"`,
          },
        ],
        { source: ctx.source },
      );
    if (!Array.isArray(servers) || servers.length === 0)
      throw new ConfigError(
        [{ path: 'servers', message: 'must be a non-empty list of email-server entries' }],
        {
          source: ctx.source,
        },
      );
    entries = servers;
  } else {
    entries = [doc];
  }
  const issues: ConfigIssue[] = [];
  const servers: EmailServerConfig[] = [];
  const warnings: ConfigWarning[] = [];
  const names = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const prefix = multi ? ['servers', i] : [];
    const resolved = await resolveReferences(stripSchemaKey(entry), ctx, multi ? `servers.${i}.` : '');
    const result = emailServerConfigSchema.safeParse(resolved);
    if (!result.success) {
      issues.push(
        ...issuesFromZod(result.error, prefix).map((x) => ({ ...x, message: issueNote(x.path) + x.message })),
      );
      continue;
    }
    if (names.has(result.data.name))
      issues.push({ path: formatPath([...prefix, 'name']), message: `duplicate name "${result.data.name}"` });
    names.add(result.data.name);
    servers.push(result.data);
    for (const w of configWarnings(result.data))
      warnings.push({ ...w, path: formatPath([...prefix, w.path]) });
  }
  if (issues.length > 0) throw new ConfigError(issues, { source: ctx.source });
  return { servers, warnings };
}

/**
 * Loads a JSON or YAML config file holding one entry or `{ servers: [...] }`, resolving
 * `env:NAME` and `file:PATH` references in secret fields (`file:` on `pfxBase64` reads the binary
 * PFX and base64-encodes it).
 *
 * @throws SmtpOAuthError `CONFIG_FILE_UNREADABLE` (file, reference) or ConfigError `CONFIG_INVALID`,
 * naming the field and the file.
 * @example loadConfigFile('smtp.yaml', { env: process.env })
 */
export async function loadConfigFile(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  expectString(path, 'path');
  expectObject(options, 'options');
  const readFile = options.readFile ?? fsReadFile;
  const absolute = resolvePath(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(absolute);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new SmtpOAuthError(
      'CONFIG_FILE_UNREADABLE',
      `Cannot read config file ${absolute}${typeof code === 'string' ? ` (${code})` : ''}`,
      { cause: err, details: { source: absolute } },
    );
  }
  const encoding = fileEncodingProblem(bytes);
  if (encoding)
    throw new SmtpOAuthError('CONFIG_FILE_UNREADABLE', `Config file ${absolute} ${encoding}`, {
      details: { source: absolute },
    });
  const raw = parseText(new TextDecoder().decode(bytes), absolute);
  return validateEntries(raw, {
    env: options.env ?? {},
    readFile,
    baseDir: options.baseDir ?? dirname(absolute),
    source: absolute,
  });
}

/** One environment variable read by {@link configFromEnv} (names shown with the default prefix). */
export interface ConfigEnvVariable {
  name: string;
  /** The config field it sets. */
  path: string;
  description: string;
}

const ENV_VARS: readonly [suffix: string, path: string, description: string][] = [
  ['NAME', 'name', 'Entry name. Default: "default".'],
  ['HOST', 'host', "SMTP server. Default for Entra: the cloud's host (smtp-mail.outlook.com)."],
  ['PORT', 'port', 'SMTP port. Default: 587 (465 with SECURITY=tls).'],
  ['SECURITY', 'security', '"starttls" or "tls". Default: starttls (tls on port 465).'],
  ['USER', 'user', 'The mailbox that authenticates.'],
  ['FROM', 'from', 'Default From address.'],
  [
    'AUTH_TYPE',
    'auth.type',
    '"oauth2", "password" or "none". Default: oauth2 (password when only PASSWORD is set).',
  ],
  [
    'PROVIDER',
    'auth.provider',
    '"entra" or "generic". Default: entra, unless TOKEN_ENDPOINT is a non-Microsoft host.',
  ],
  ['CLOUD', 'auth.tokenEndpoint', '"global", "usGovernment" or "china", used with TENANT. Default: global.'],
  ['TENANT', 'auth.tokenEndpoint', 'Directory (tenant) ID or domain; builds the Entra token endpoint.'],
  ['TOKEN_ENDPOINT', 'auth.tokenEndpoint', 'Token endpoint URL; overrides TENANT/CLOUD.'],
  ['CLIENT_ID', 'auth.clientId', 'Application (client) ID.'],
  [
    'SCOPE',
    'auth.scope',
    "Scope. Default for Entra: the cloud's Exchange scope (https://outlook.office365.com/.default).",
  ],
  [
    'CLIENT_AUTH_METHOD',
    'auth.clientAuthMethod',
    'client_secret_post, client_secret_basic or private_key_jwt.',
  ],
  [
    'PERMISSION_MODEL',
    'auth.permissionModel',
    '"mailbox" (default: SMTP.SendAsApp + FullAccess) or "rbac" (RBAC for Applications).',
  ],
  ['CLIENT_SECRET', 'auth.credential.secret', 'Client secret Value (or env:/file: reference).'],
  ['CERTIFICATE', 'auth.credential.certificatePem', 'Certificate PEM (or file:PATH).'],
  ['PRIVATE_KEY', 'auth.credential.privateKeyPem', 'Private key PEM (or file:PATH).'],
  ['PFX', 'auth.credential.pfxBase64', 'PFX as base64 (or file:PATH to the binary .pfx).'],
  ['PFX_PASSPHRASE', 'auth.credential.passphrase', 'PFX passphrase.'],
  ['THUMBPRINT', 'auth.credential.thumbprint', 'Expected certificate thumbprint (SHA-1 or SHA-256).'],
  ['PASSWORD', 'auth.password', 'Password for legacy password auth.'],
  ['TLS_CA', 'tls.ca', 'Extra CA certificate PEM (or file:PATH) for private servers.'],
  ['MAX_CONNECTIONS', 'limits.maxConnections', 'Maximum concurrent SMTP connections.'],
  ['MESSAGES_PER_MINUTE', 'limits.messagesPerMinute', 'Send rate limit.'],
];

/** Documentation of the variables {@link configFromEnv} reads (with the default `SMTP_OAUTH_` prefix). */
export const configEnvVariables: readonly ConfigEnvVariable[] = Object.freeze(
  ENV_VARS.map(([suffix, path, description]) =>
    Object.freeze({ name: `SMTP_OAUTH_${suffix}`, path, description }),
  ),
);

/** Options for {@link configFromEnv}. */
export interface ConfigFromEnvOptions extends Omit<LoadConfigOptions, 'env'> {
  /** Variable name prefix. @default 'SMTP_OAUTH_' */
  prefix?: string;
}

/**
 * Builds and validates one entry from environment variables (see {@link configEnvVariables}).
 * Values may be `env:NAME` / `file:PATH` references, resolved like in config files.
 *
 * @throws ConfigError naming the field and the variable.
 * @example const { config, warnings } = await configFromEnv(process.env)
 */
export async function configFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: ConfigFromEnvOptions = {},
): Promise<{ config: EmailServerConfig; warnings: ConfigWarning[] }> {
  expectObject(env, 'env');
  expectObject(options, 'options');
  const prefix = options.prefix ?? 'SMTP_OAUTH_';
  const get = (suffix: string): string | undefined => {
    const v = env[prefix + suffix];
    return v === undefined || v === '' ? undefined : v;
  };
  const source = `environment (${prefix}*)`;
  const issues: ConfigIssue[] = [];
  const num = (suffix: string, path: string): number | undefined => {
    const v = get(suffix);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v.trim())) {
      issues.push({ path, message: `${prefix}${suffix} must be a whole number` });
      return undefined;
    }
    return Number(v.trim());
  };

  const cloudName = (get('CLOUD') ?? 'global') as EntraCloud;
  if (!Object.hasOwn(entraClouds, cloudName))
    issues.push({
      path: 'auth.tokenEndpoint',
      message: `${prefix}CLOUD must be global, usGovernment or china`,
    });
  const cloud = entraClouds[cloudName] ?? entraClouds.global;

  let tokenEndpoint = get('TOKEN_ENDPOINT');
  const tenant = get('TENANT');
  if (!tokenEndpoint && tenant) {
    const problem = tenantProblem(tenant);
    if (problem) issues.push({ path: 'auth.tokenEndpoint', message: `${prefix}TENANT: ${problem}` });
    else tokenEndpoint = `https://${cloud.loginHost}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
  }
  let endpointIsEntra = true;
  if (tokenEndpoint) {
    try {
      endpointIsEntra = isEntraLoginHost(new URL(tokenEndpoint).hostname);
    } catch {
      // the schema reports the malformed URL
    }
  }
  const authType = get('AUTH_TYPE') ?? (get('PASSWORD') && !get('CLIENT_ID') ? 'password' : 'oauth2');
  const provider = get('PROVIDER') ?? (tokenEndpoint && !endpointIsEntra && !tenant ? 'generic' : 'entra');

  let auth: Record<string, unknown>;
  if (authType === 'oauth2') {
    let credential: Record<string, unknown>;
    if (get('PFX')) credential = { kind: 'pfx', pfxBase64: get('PFX'), passphrase: get('PFX_PASSPHRASE') };
    else if (get('CERTIFICATE') || get('PRIVATE_KEY'))
      credential = {
        kind: 'certificate',
        certificatePem: get('CERTIFICATE'),
        privateKeyPem: get('PRIVATE_KEY'),
      };
    else credential = { kind: 'secret', secret: get('CLIENT_SECRET') };
    if (credential.kind !== 'secret' && get('THUMBPRINT')) credential.thumbprint = get('THUMBPRINT');
    auth = {
      type: 'oauth2',
      provider,
      tokenEndpoint,
      clientId: get('CLIENT_ID'),
      scope: get('SCOPE') ?? (provider === 'entra' ? cloud.scope : undefined),
      clientAuthMethod: get('CLIENT_AUTH_METHOD'),
      permissionModel: get('PERMISSION_MODEL'),
      credential,
    };
  } else if (authType === 'password') auth = { type: 'password', password: get('PASSWORD') };
  else auth = { type: authType };

  const input: Record<string, unknown> = {
    name: get('NAME') ?? 'default',
    host: get('HOST') ?? (authType === 'oauth2' && provider === 'entra' ? cloud.smtpHost : undefined),
    port: num('PORT', 'port'),
    security: get('SECURITY'),
    user: get('USER'),
    from: get('FROM'),
    auth,
  };
  const ca = get('TLS_CA');
  if (ca) input.tls = { ca };
  const maxConnections = num('MAX_CONNECTIONS', 'limits.maxConnections');
  const messagesPerMinute = num('MESSAGES_PER_MINUTE', 'limits.messagesPerMinute');
  if (maxConnections !== undefined || messagesPerMinute !== undefined)
    input.limits = { maxConnections, messagesPerMinute };
  if (issues.length > 0) throw new ConfigError(issues, { source });

  const byPath = new Map<string, string>();
  for (const [suffix, path] of ENV_VARS)
    if (!byPath.has(path) || get(suffix)) byPath.set(path, prefix + suffix);
  const varFor = (path: string): string | undefined => {
    for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
      const name = byPath.get(p);
      if (name) return name;
    }
    return undefined;
  };
  const { servers, warnings } = await validateEntries(
    dropUndefined(input),
    {
      env,
      readFile: options.readFile ?? fsReadFile,
      baseDir: options.baseDir ?? resolvePath('.'),
      source,
    },
    (path) => {
      const name = varFor(path);
      return name ? `(${name}) ` : '';
    },
  );
  return { config: servers[0] as EmailServerConfig, warnings };
}

function dropUndefined(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v);
  return out;
}
