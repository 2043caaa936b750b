import { expectObject } from '../internal/guard.js';
import { cloudOfSmtpHost } from './cloud.js';
/**
 * Moving an entry off basic (password) SMTP AUTH: one conversion that the CLI (`smtp-oauth config
 * migrate`) and the WebAdmin ("Move to OAuth2") both call, so they keep and ask for the same things.
 *
 * Why now: Microsoft disables basic SMTP AUTH by default for existing tenants at the end of December
 * 2026 (admins can still re-enable it); tenants created after December 2026 do not have it; the final
 * removal date is announced in the second half of 2027 (MC786329, update of 2026-01-27).
 *
 * Browser-safe: no `node:*` imports.
 */
import { ConfigError, type ConfigIssue } from '../errors/smtp-oauth-error.js';
import { entraClouds, entraTokenEndpoint, isGuid, tenantProblem } from './microsoft.js';
import type { EmailServerConfigInput } from './schema.js';

/**
 * A password entry as a config file holds it (references unresolved) or as an API shows it (the
 * password redacted): only the fields that are kept are read; the password is never read.
 */
export interface PasswordEntrySource {
  name: string;
  host: string;
  port?: number | undefined;
  security?: 'starttls' | 'tls' | undefined;
  user: string;
  from?: string | undefined;
  tls?: { ca?: string | undefined } | undefined;
  limits?: { maxConnections?: number | undefined; messagesPerMinute?: number | undefined } | undefined;
  auth: { type: string };
}

/** The OAuth2 credential of the new entry, as written (values or `env:` / `file:` references). */
export type MigrationCredential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; certificatePem: string; privateKeyPem: string; thumbprint?: string }
  | { kind: 'pfx'; pfxBase64: string; passphrase?: string; thumbprint?: string };

/** What the user is asked for: the tenant, the client ID and the credential — nothing else. */
export interface OAuth2MigrationAnswers {
  /** Directory (tenant) ID or a verified domain. Required unless `tokenEndpoint` is given. */
  tenant?: string;
  /** Application (client) ID, a GUID. */
  clientId: string;
  credential: MigrationCredential;
  /** How Exchange authorizes the app; omitted means the classic `mailbox` model. */
  permissionModel?: 'mailbox' | 'rbac';
  /**
   * A token endpoint to use instead of the one built from `tenant` and the host's cloud (an
   * Entra-compatible endpoint such as the testkit's).
   */
  tokenEndpoint?: string;
}

/**
 * Turns a password entry into an OAuth2 (Entra client-credentials) entry. Kept: name, host, port,
 * security, mailbox (`user`), From, TLS CA and limits. Dropped: the password. Added: the token
 * endpoint of the host's cloud and tenant, the client ID, the cloud's Exchange scope and the
 * credential. The result is the entry as written (references unresolved); validate it the way it
 * is loaded (`parseConfig`, or `loadConfigFile` when it holds references).
 *
 * @example
 * // config: a password entry (auth.type 'password'), e.g. from loadConfigFile()
 * migrateToOAuth2(config, { tenant: 'contoso.onmicrosoft.com', clientId, credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' } })
 * @throws ConfigError (code `CONFIG_INVALID`) naming the field: `auth.type` when the entry does not
 *   use a password, `tenant` when it is missing or not usable for client credentials, `clientId`
 *   when it is not a GUID.
 */
export function migrateToOAuth2(
  entry: PasswordEntrySource,
  answers: OAuth2MigrationAnswers,
): EmailServerConfigInput {
  expectObject(entry, 'entry');
  expectObject(answers, 'answers');
  const issues: ConfigIssue[] = [];
  if (entry.auth?.type !== 'password')
    issues.push({
      path: 'auth.type',
      message: `is '${String(entry.auth?.type)}': only a password entry is moved to OAuth2`,
    });
  const cloud = cloudOfSmtpHost(entry.host) ?? 'global';
  const tenant = answers.tenant?.trim();
  if (!answers.tokenEndpoint) {
    if (!tenant)
      issues.push({
        path: 'tenant',
        message: 'is required: the Directory (tenant) ID or a domain such as contoso.onmicrosoft.com',
      });
    else {
      const problem = tenantProblem(tenant);
      if (problem) issues.push({ path: 'tenant', message: problem });
    }
  }
  const clientId = answers.clientId?.trim() ?? '';
  if (!isGuid(clientId))
    issues.push({
      path: 'clientId',
      message:
        "must be the Application (client) ID, a GUID like 11111111-2222-3333-4444-555555555555, from the app registration's Overview page",
    });
  if (issues.length) throw new ConfigError(issues);

  const tokenEndpoint = answers.tokenEndpoint ?? entraTokenEndpoint(cloud, tenant as string);
  const { name, host, port, security, user, from, tls, limits } = entry;
  return {
    name,
    host,
    ...(port !== undefined && { port }),
    ...(security !== undefined && { security }),
    user,
    ...(from !== undefined && { from }),
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint,
      clientId,
      scope: entraClouds[cloud].scope,
      credential: answers.credential,
      ...(answers.permissionModel && { permissionModel: answers.permissionModel }),
    },
    ...(tls !== undefined && { tls }),
    ...(limits !== undefined && { limits }),
  };
}
