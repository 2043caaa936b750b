import {
  type ConfigWarning,
  configWarnings,
  type EmailServerConfig,
  isSmtpOAuthError,
  loadCertificateCredential,
  type PublicEmailServerConfig,
  parseConfig,
  redactConfig,
  redactConfigWithCertificate,
} from '@org/core';
import type { EmailServerView } from '@org/core/api';
import type { AppContext } from './context.js';
import { assertSmtpHostAllowed, assertTokenEndpointAllowed } from './guards/outbound.js';
import { ApiError } from './http/errors.js';
import { changedPaths, mergeSecrets, planSecretUpdate, splitSecrets } from './secrets/config-secrets.js';
import { decryptSecret, encryptSecret } from './secrets/envelope.js';
import type { EmailServerRecord, SecretEnvelopes } from './store/email-servers-repository.js';
import { newId } from './store/ids.js';

const TABLE = 'email_servers';

const coreNow = (ctx: AppContext) => () => ctx.now().getTime();

/**
 * The API view of an entry. Certificate facts come from core's `redactConfigWithCertificate`, which
 * needs the decrypted credential; secret-credential entries need no decryption at all.
 */
export function toView(ctx: AppContext, record: EmailServerRecord): EmailServerView {
  // A row whose secrets cannot be decrypted fails alone: the list still works, the entry says why.
  const unreadable = unreadableSecrets(ctx, record);
  const certificateKind = hasCertificate(record) && unreadable.length === 0;
  let config: PublicEmailServerConfig;
  if (certificateKind) {
    const parsed = parseConfig(mergeSecrets(record.config, decryptAll(ctx, record)));
    config = parsed.ok
      ? redactConfigWithCertificate(parsed.config, { now: coreNow(ctx) })
      : (placeholderView(record) as PublicEmailServerConfig);
  } else {
    config = placeholderView(record) as PublicEmailServerConfig;
  }
  const credential = config.auth.type === 'oauth2' ? config.auth.credential : undefined;
  const info = credential && credential.kind !== 'secret' ? credential.certificate : undefined;
  const problem = credential && credential.kind !== 'secret' ? credential.problem : undefined;
  return {
    id: record.id,
    name: record.name,
    isDefault: record.isDefault,
    config,
    clientSecretSet: 'auth.credential.secret' in record.secrets,
    passwordSet: 'auth.password' in record.secrets,
    certificate: info ?? null,
    certificateProblem: problem ?? null,
    secretProblem: unreadable.length
      ? { code: 'SECRET_DECRYPT_FAILED', message: SECRET_UNREADABLE, fields: unreadable }
      : null,
    lastTest: record.lastTest,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function hasCertificate(record: EmailServerRecord): boolean {
  const auth = record.config.auth as { type?: unknown; credential?: { kind?: unknown } } | undefined;
  return (
    auth?.type === 'oauth2' && (auth.credential?.kind === 'certificate' || auth.credential?.kind === 'pfx')
  );
}

// core's redactConfig only reports that secrets are set, so placeholders stand in for the stored
// values and no decryption is needed for secret-credential entries.
function placeholderView(record: EmailServerRecord): PublicEmailServerConfig {
  const placeholders = Object.fromEntries(Object.keys(record.secrets).map((p) => [p, '']));
  const shaped = mergeSecrets(record.config, placeholders) as unknown as EmailServerConfig;
  return redactConfig(shaped);
}

/** Certificate warnings (S16: expiry within 30 days) of a config, from core's credential loader. */
function certificateWarnings(ctx: AppContext, config: EmailServerConfig): ConfigWarning[] {
  if (config.auth.type !== 'oauth2' || config.auth.credential.kind === 'secret') return [];
  try {
    return loadCertificateCredential(config.auth.credential, { now: coreNow(ctx) }).warnings;
  } catch {
    return [];
  }
}

/** Core's warnings for a stored entry (placeholders stand in for secrets; only their kind matters). */
export function storedWarnings(ctx: AppContext, record: EmailServerRecord): ConfigWarning[] {
  if (hasCertificate(record) && unreadableSecrets(ctx, record).length === 0) {
    const parsed = parseConfig(mergeSecrets(record.config, decryptAll(ctx, record)));
    if (parsed.ok) return [...parsed.warnings, ...certificateWarnings(ctx, parsed.config)];
  }
  const placeholders = Object.fromEntries(Object.keys(record.secrets).map((p) => [p, '']));
  return configWarnings(mergeSecrets(record.config, placeholders) as unknown as EmailServerConfig);
}

const SECRET_UNREADABLE = 'secret unreadable, enter it again';

/** Secret fields of a record that no configured key decrypts. */
function unreadableSecrets(ctx: AppContext, record: Pick<EmailServerRecord, 'id' | 'secrets'>): string[] {
  return Object.entries(record.secrets)
    .filter(([field, envelope]) => {
      try {
        decryptSecret(ctx.keyRing, envelope, { table: TABLE, recordId: record.id, field });
        return false;
      } catch {
        return true;
      }
    })
    .map(([field]) => field);
}

/**
 * Decrypts a record's secrets. One that no key decrypts is a 409 naming the field, so the admin can
 * enter it again (an update that supplies it replaces the envelope without decrypting it).
 *
 * @throws ApiError 409 `SECRET_DECRYPT_FAILED` with an issue per unreadable field.
 */
function decryptAll(
  ctx: AppContext,
  record: Pick<EmailServerRecord, 'id' | 'secrets'> & { name?: string },
  paths?: readonly string[],
) {
  const out: Record<string, string> = {};
  const failed: string[] = [];
  for (const [field, envelope] of Object.entries(record.secrets)) {
    if (paths && !paths.includes(field)) continue;
    try {
      out[field] = decryptSecret(ctx.keyRing, envelope, { table: TABLE, recordId: record.id, field });
    } catch {
      failed.push(field);
    }
  }
  if (failed.length > 0) {
    ctx.logger.warn('stored secret unreadable', { emailServerId: record.id, fields: failed });
    throw new ApiError(409, 'SECRET_DECRYPT_FAILED', `A stored secret of this entry is unreadable`, {
      hint: 'Enter the secret again and save the entry; if every entry is affected, the key file or SMTP_OAUTH_KEYS lacks the key they were encrypted under',
      issues: failed.map((path) => ({ path, message: SECRET_UNREADABLE })),
    });
  }
  return out;
}

function encryptAll(
  ctx: AppContext,
  id: string,
  secrets: Record<string, string | undefined>,
): SecretEnvelopes {
  const out: SecretEnvelopes = {};
  for (const [field, value] of Object.entries(secrets)) {
    if (value !== undefined)
      out[field] = encryptSecret(ctx.keyRing, value, { table: TABLE, recordId: id, field });
  }
  return out;
}

/** The full, decrypted config of an entry — for core's mailer/token provider, never for responses. */
export async function loadEmailServerConfig(
  ctx: AppContext,
  id: string,
): Promise<EmailServerConfig | undefined> {
  const record = await ctx.repos.emailServers.get(id);
  return record && configOf(ctx, record);
}

/** Decrypts and re-validates a stored entry. */
export function configOf(ctx: AppContext, record: EmailServerRecord): EmailServerConfig {
  const parsed = parseConfig(mergeSecrets(record.config, decryptAll(ctx, record)));
  if (!parsed.ok)
    throw new ApiError(409, 'STORED_CONFIG_INVALID', `Stored entry ${record.name} no longer validates`, {
      hint: 'Open the entry in the admin UI and save it again with the fields it names',
      issues: parsed.issues.slice(0, 50).map((i) => ({ path: i.path || '(root)', message: i.message })),
    });
  return parsed.config;
}

/** Validates with core's schema (one source of truth), then applies the outbound guards (S5, S6). */
async function validate(
  ctx: AppContext,
  input: unknown,
): Promise<{ config: EmailServerConfig; warnings: ConfigWarning[] }> {
  const parsed = parseConfig(input);
  if (!parsed.ok) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'The email server configuration is invalid', {
      issues: parsed.issues.slice(0, 50).map((i) => ({
        path: i.path || '(root)',
        message: i.message,
        ...(i.code ? { code: i.code } : {}),
      })),
    });
  }
  const { config } = parsed;
  if (config.auth.type === 'oauth2')
    assertTokenEndpointAllowed(config.auth.tokenEndpoint, 'auth.tokenEndpoint', ctx.tokenPolicy);
  const warnings = [...parsed.warnings, ...checkCertificate(ctx, config)];
  try {
    await assertSmtpHostAllowed(config.host, config.port, 'host', ctx.smtpHostPolicy);
  } catch (error) {
    // A name this machine cannot resolve now (split DNS, a typo being fixed, DNS down) does not stop
    // a save: the entry is kept with a warning, and S6 still checks every address at connect time.
    if (!(error instanceof ApiError) || error.code !== 'SMTP_HOST_UNRESOLVABLE') throw error;
    warnings.push({
      path: 'host',
      code: 'HOST_UNRESOLVABLE',
      message: `${config.host} could not be resolved from this server; sending fails until it resolves. Check the name and this machine's DNS.`,
    });
  }
  return { config, warnings };
}

/**
 * S16 through core's credential loader: PEM or PFX readable, key and certificate belong together,
 * thumbprint matches, not expired. A problem is a 400 naming the field; expiry within 30 days is a
 * warning in the response.
 */
function checkCertificate(ctx: AppContext, config: EmailServerConfig): ConfigWarning[] {
  if (config.auth.type !== 'oauth2' || config.auth.credential.kind === 'secret') return [];
  try {
    return loadCertificateCredential(config.auth.credential, { now: coreNow(ctx) }).warnings;
  } catch (error) {
    if (!isSmtpOAuthError(error)) throw error;
    const issues = (error as { issues?: { path: string; message: string }[] }).issues ?? [
      { path: 'auth.credential', message: error.message },
    ];
    throw new ApiError(400, error.code, error.message, { hint: error.hint, issues });
  }
}

async function assertNameFree(ctx: AppContext, name: string, exceptId?: string) {
  const existing = await ctx.repos.emailServers.getByName(name);
  if (existing && existing.id !== exceptId) {
    throw new ApiError(409, 'NAME_TAKEN', `An email server named "${name}" already exists`, {
      issues: [{ path: 'name', message: 'is already used by another entry' }],
    });
  }
}

export async function createEmailServer(
  ctx: AppContext,
  input: unknown,
  actor: string,
  address: string | null,
) {
  const { config, warnings } = await validate(ctx, input);
  await assertNameFree(ctx, config.name);
  const id = newId();
  const { publicConfig, secrets } = splitSecrets(config as unknown as Record<string, unknown>);
  await ctx.repos.emailServers.insert({
    id,
    name: config.name,
    config: publicConfig,
    secrets: encryptAll(ctx, id, secrets),
    at: ctx.now(),
  });
  await ctx.audit.record({
    actor,
    action: 'email-server.create',
    target: id,
    fields: [...changedPaths({}, publicConfig), ...Object.keys(secrets)].sort(),
    outcome: 'ok',
    address,
  });
  const record = (await ctx.repos.emailServers.get(id))!;
  return { emailServer: toView(ctx, record), warnings };
}

export async function updateEmailServer(
  ctx: AppContext,
  id: string,
  input: unknown,
  actor: string,
  address: string | null,
) {
  const record = await ctx.repos.emailServers.get(id);
  if (!record) throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
  const plan = planSecretUpdate(input, record.config, Object.keys(record.secrets));
  // S3: a stored credential never follows a changed destination (host, port, tls.ca, endpoint …).
  if (plan.required.length > 0)
    throw new ApiError(
      400,
      'SECRET_REQUIRED',
      `Enter the stored secret again: ${plan.destinationChanged.join(', ')} changed`,
      {
        hint: 'A stored credential is only sent where it was entered for; supply it again in the same request',
        issues: plan.required.map((r) => ({ path: r.path, message: r.message })),
      },
    );
  const carried: string[] = plan.carried;
  const filled = carried.length
    ? mergeSecrets(plan.input as Record<string, unknown>, decryptAll(ctx, record, carried))
    : plan.input;
  const { config, warnings } = await validate(ctx, filled);
  await assertNameFree(ctx, config.name, id);
  const { publicConfig, secrets } = splitSecrets(config as unknown as Record<string, unknown>);
  // Carried secrets keep their envelopes as they are; only secrets sent in this request are re-encrypted.
  const envelopes: SecretEnvelopes = {};
  const setNow: string[] = [];
  for (const [field, value] of Object.entries(secrets)) {
    if (carried.includes(field) && record.secrets[field]) envelopes[field] = record.secrets[field];
    else {
      envelopes[field] = encryptSecret(ctx.keyRing, value!, { table: TABLE, recordId: id, field });
      setNow.push(field);
    }
  }
  const removed = Object.keys(record.secrets).filter((f) => !(f in envelopes));
  await ctx.repos.emailServers.update({
    id,
    name: config.name,
    config: publicConfig,
    secrets: envelopes,
    at: ctx.now(),
  });
  await ctx.audit.record({
    actor,
    action: 'email-server.update',
    target: id,
    fields: [...new Set([...changedPaths(record.config, publicConfig), ...setNow, ...removed])].sort(),
    outcome: 'ok',
    address,
  });
  return { emailServer: toView(ctx, (await ctx.repos.emailServers.get(id))!), warnings };
}
