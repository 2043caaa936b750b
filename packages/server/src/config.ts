import { resolve } from 'node:path';
import { ServerError } from './errors.js';
import type { RelayOptions } from './relay/relay.js';
import { relaySettings } from './relay/settings.js';

/** Server settings read from the environment, once, by the entry point. */
export interface ServerSettings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** `SMTP_OAUTH_KEYS` (id:base64key list); when absent, the key file is used. */
  keys: string | undefined;
  /** Key file path. @default <dataDir>/keys */
  keyFile: string;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  tokenHostAllowlist: string[];
  allowPrivateSmtpHosts: boolean;
  /** `WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_PRIVATE_TARGETS`: widen where API keys' webhooks may post. @default false */
  webhooks: { allowHttp: boolean; allowPrivateTargets: boolean };
  secureCookies: boolean | 'auto';
  trustProxy: boolean | number | string;
  allowedOrigins: string[];
  adminUiDir: string | undefined;
  sandbox: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The SMTP relay (`RELAY_*`, see relay/settings.ts); undefined: off. */
  relay: RelayOptions | undefined;
  /** `AUDIT_RETENTION_DAYS`: audit records older than this are deleted. @default 90 */
  auditRetentionDays: number;
  /** Outbox tuning (`OUTBOX_*`, milliseconds / counts); unset fields keep the server's defaults. */
  outbox: {
    leaseMs?: number;
    pollMs?: number;
    drainTimeoutMs?: number;
    concurrency?: number;
    retryFirstDelayMs?: number;
  };
}

/** A positive integer from the environment, or undefined when unset. */
function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) <= 0)
    throw new ServerError('SETTINGS_INVALID', `${name} must be a positive whole number`, {
      hint: `e.g. ${name}=1000`,
    });
  return Number(v);
}

function outboxSettings(env: Record<string, string | undefined>): ServerSettings['outbox'] {
  const entries = {
    leaseMs: positiveInt('OUTBOX_LEASE_MS', env.OUTBOX_LEASE_MS),
    pollMs: positiveInt('OUTBOX_POLL_MS', env.OUTBOX_POLL_MS),
    drainTimeoutMs: positiveInt('OUTBOX_DRAIN_TIMEOUT_MS', env.OUTBOX_DRAIN_TIMEOUT_MS),
    concurrency: positiveInt('OUTBOX_CONCURRENCY', env.OUTBOX_CONCURRENCY),
    retryFirstDelayMs: positiveInt('OUTBOX_RETRY_FIRST_DELAY_MS', env.OUTBOX_RETRY_FIRST_DELAY_MS),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function bool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ServerError('SETTINGS_INVALID', `${name} must be true or false`, {
    hint: `Set ${name}=true or ${name}=false`,
  });
}

/**
 * Parses the environment (and `--sandbox`) into settings. Pure: the caller passes `process.env`.
 * Errors name the variable, never its value (it may be a key).
 */
export function loadSettings(
  env: Record<string, string | undefined>,
  argv: readonly string[] = [],
): ServerSettings {
  const portRaw = env.PORT ?? '8025';
  const port = Number(portRaw);
  if (!/^\d{1,5}$/.test(portRaw) || port > 65_535) {
    throw new ServerError('SETTINGS_INVALID', 'PORT must be a number between 0 and 65535', {
      hint: 'e.g. PORT=8025',
    });
  }
  const sandbox = argv.includes('--sandbox') || (bool('SANDBOX', env.SANDBOX) ?? false);
  // Sandbox mode keeps its state apart from a production data directory (it resets the admin
  // password on every start). Under pnpm/npm scripts INIT_CWD is where the user ran the command,
  // so `pnpm sandbox` at the repository root uses <root>/.data/sandbox.
  const dataDir = env.DATA_DIR
    ? resolve(env.DATA_DIR)
    : sandbox
      ? resolve(env.INIT_CWD ?? '.', '.data/sandbox')
      : resolve('./.data');
  const logLevel = (env.LOG_LEVEL ?? 'info') as ServerSettings['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ServerError('SETTINGS_INVALID', 'LOG_LEVEL must be debug, info, warn or error');
  }
  const retentionRaw = env.AUDIT_RETENTION_DAYS ?? '90';
  if (!/^\d{1,5}$/.test(retentionRaw) || Number(retentionRaw) < 1)
    throw new ServerError(
      'SETTINGS_INVALID',
      'AUDIT_RETENTION_DAYS must be a whole number of days, at least 1',
      {
        hint: 'e.g. AUDIT_RETENTION_DAYS=90',
      },
    );
  const trust = env.TRUST_PROXY;
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    keys: env.SMTP_OAUTH_KEYS || undefined,
    keyFile: resolve(env.SMTP_OAUTH_KEY_FILE ?? `${dataDir}/keys`),
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    tokenHostAllowlist: list(env.TOKEN_HOST_ALLOWLIST),
    allowPrivateSmtpHosts: bool('SMTP_ALLOW_PRIVATE_HOSTS', env.SMTP_ALLOW_PRIVATE_HOSTS) ?? false,
    webhooks: {
      allowHttp: bool('WEBHOOK_ALLOW_HTTP', env.WEBHOOK_ALLOW_HTTP) ?? false,
      allowPrivateTargets: bool('WEBHOOK_ALLOW_PRIVATE_TARGETS', env.WEBHOOK_ALLOW_PRIVATE_TARGETS) ?? false,
    },
    secureCookies: bool('SECURE_COOKIES', env.SECURE_COOKIES) ?? 'auto',
    trustProxy:
      trust === undefined || trust === ''
        ? false
        : /^\d+$/.test(trust)
          ? Number(trust)
          : (bool('TRUST_PROXY', trust) ?? trust),
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    adminUiDir: env.ADMIN_UI_DIR || undefined,
    outbox: outboxSettings(env),
    sandbox,
    logLevel,
    relay: relaySettings(env, dataDir),
    auditRetentionDays: Number(retentionRaw),
  };
}
