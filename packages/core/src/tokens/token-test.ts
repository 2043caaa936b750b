import { isMicrosoftHost, parseEntraTokenEndpoint } from '../config/microsoft.js';
import type { EmailServerConfig } from '../config/schema.js';
import { ConfigError } from '../errors/smtp-oauth-error.js';
import { expectEmailServerConfig, expectObject, expectString } from '../internal/guard.js';
import { inspectAccessToken, type TokenFinding, type TokenInspection } from './inspect.js';
import type { AccessToken } from './types.js';

/** Options of {@link testAccessToken}. */
export interface TestAccessTokenOptions {
  /** Clock, ms since the epoch; the expiry checks and `expiresInMs` use it. @default Date.now */
  now?: () => number;
}

/**
 * Result of {@link testAccessToken}: the verdict the CLI's `smtp-oauth token` and the server's
 * `POST /api/email-servers/{id}/test-token` both report. Never contains the token.
 */
export interface AccessTokenTest {
  /**
   * True when every check passed, or when the token is opaque (not a JWT) and not bound for
   * Exchange: a generic OAuth2 provider may issue opaque tokens, only Exchange needs a JWT.
   */
  ok: boolean;
  /** Expiry, ms since the epoch (the provider's `expiresAt`). */
  expiresAt: number;
  /** Time left at the test, in ms (negative when already expired). */
  expiresInMs: number;
  /** `Bearer` for Entra and most providers. */
  tokenType: string;
  /**
   * Whether Exchange Online will read the token (provider `entra` or a Microsoft 365 SMTP host):
   * then it must be a JWT with Exchange's audience, role (or RBAC) and tenant.
   */
  exchangeBound: boolean;
  /** Header, claims (decoded, not verified) and one finding per check. */
  inspection: TokenInspection;
  /** The first failed check, when `ok` is false. */
  failed?: TokenFinding;
}

/**
 * Tests an access token the way Exchange Online will judge it for this entry: audience, the
 * `SMTP.SendAsApp` role under the entry's permission model (a token without roles is right under
 * RBAC for Applications), the tenant of the entry's Entra token endpoint, expiry, app-only. The one
 * token test of the CLI (`smtp-oauth token`) and the server (`test-token`); they fetch the token,
 * this judges it.
 *
 * @param token - a token just fetched from the entry's provider (`getToken({ forceRefresh: true })`).
 * @param config - the entry it was fetched for; must use `auth.type: 'oauth2'` (otherwise the
 *   token-bound checks have nothing to compare with and only the decoded checks run).
 * @throws ConfigError `CONFIG_INVALID` when `token` is not an {@link AccessToken} (`accessToken`,
 *   `expiresAt` in ms, `tokenType`) or `config` is not an email-server entry (plain-JS callers).
 * @example
 * const token = await createTokenProvider(config).getToken({ forceRefresh: true });
 * const test = testAccessToken(token, config);
 * if (!test.ok) console.log(test.failed?.message, test.failed?.fix);
 */
export function testAccessToken(
  token: AccessToken,
  config: EmailServerConfig,
  options: TestAccessTokenOptions = {},
): AccessTokenTest {
  expectObject(token, 'token');
  expectString(token.accessToken, 'token.accessToken');
  expectString(token.tokenType, 'token.tokenType');
  if (typeof token.expiresAt !== 'number' || !Number.isFinite(token.expiresAt))
    throw new ConfigError([{ path: 'token.expiresAt', message: 'must be a number (ms since the epoch)' }]);
  expectEmailServerConfig(config);
  expectObject(options, 'options');
  const now = options.now ?? Date.now;
  const auth = config.auth.type === 'oauth2' ? config.auth : undefined;
  // The tenant the token must come from is the one in the entry's Entra token endpoint.
  const tenant = auth ? parseEntraTokenEndpoint(auth.tokenEndpoint)?.tenant : undefined;
  const inspection = inspectAccessToken(token.accessToken, {
    now,
    ...(tenant ? { tenant } : {}),
    // RBAC for Applications: a token without roles is right there, not a missing consent.
    ...(auth?.permissionModel ? { permissionModel: auth.permissionModel } : {}),
  });
  // An opaque token from a generic provider is normal; only Exchange-bound tokens must pass.
  const exchangeBound = auth?.provider === 'entra' || isMicrosoftHost(config.host);
  const ok = inspection.ok || (!exchangeBound && !inspection.claims);
  const failed = ok ? undefined : inspection.findings.find((f) => !f.ok);
  return {
    ok,
    expiresAt: token.expiresAt,
    expiresInMs: token.expiresAt - now(),
    tokenType: token.tokenType,
    exchangeBound,
    inspection,
    ...(failed ? { failed } : {}),
  };
}
