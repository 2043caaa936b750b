import { entryCloud } from '../config/cloud.js';
import { cloudOfLoginHost, type EntraCloud, parseEntraTokenEndpoint } from '../config/microsoft.js';
import { proxyFor, proxyLabel } from '../internal/https-fetch.js';
import { ConfigError, type ErrorContext, SmtpOAuthError } from '../errors/index.js';
import { type AssertionSigner, createAssertionSigner, decodeJwt } from '../internal/jwt.js';
import type { ClientCredential, TokenProviderBaseOptions } from './types.js';

/** A token endpoint, parsed once: the URL, and for an Entra path its tenant and cloud. */
export interface TokenEndpoint {
  url: URL;
  /** The URL as sent (normalised by WHATWG URL). */
  href: string;
  hostname: string;
  /** The `{tenant}` path segment of an Entra endpoint. */
  tenant?: string;
  version?: 'v1' | 'v2';
  /** The Microsoft cloud of the login host, if it is one. */
  cloud?: EntraCloud;
}

/** The user's values for hints: tenant (from the endpoint path), client id, scope, host, cloud. */
export function tokenErrorContext(
  options: Pick<TokenProviderBaseOptions, 'clientId' | 'scope' | 'proxy'>,
  endpoint: TokenEndpoint,
  now: () => number,
): ErrorContext {
  const ctx: ErrorContext = {
    clientId: options.clientId,
    scope: options.scope,
    now,
    host: endpoint.hostname,
    leg: 'token',
  };
  const proxy = proxyFor(options.proxy, endpoint.href);
  if (proxy) ctx.proxy = proxyLabel(proxy);
  if (endpoint.tenant) ctx.tenant = endpoint.tenant;
  if (endpoint.cloud) ctx.tokenCloud = endpoint.cloud;
  const cloud = entryCloud({ tokenEndpoint: endpoint.url, scope: options.scope }).cloud;
  if (cloud) ctx.cloud = cloud;
  return ctx;
}

/**
 * Parses the token endpoint — the one parse of it on a provider's path — and refuses endpoints
 * that would leak the credential: anything but https, or with user info.
 *
 * @throws ConfigError (path `auth.tokenEndpoint`)
 */
export function checkTokenEndpoint(tokenEndpoint: string): TokenEndpoint {
  let url: URL;
  try {
    url = new URL(tokenEndpoint);
  } catch {
    throw new ConfigError([{ path: 'auth.tokenEndpoint', message: 'must be an https URL' }]);
  }
  if (url.protocol !== 'https:')
    throw new ConfigError([
      {
        path: 'auth.tokenEndpoint',
        message: 'must use https; client credentials must never travel over plain http',
      },
    ]);
  if (url.username || url.password)
    throw new ConfigError([
      { path: 'auth.tokenEndpoint', message: 'must not contain user info (user:password@)' },
    ]);
  const entra = parseEntraTokenEndpoint(url);
  const cloud = cloudOfLoginHost(url.hostname);
  return {
    url,
    href: url.toString(),
    hostname: url.hostname,
    ...(entra ? { tenant: entra.tenant, version: entra.version } : {}),
    ...(cloud ? { cloud } : {}),
  };
}

export function signerFor(credential: ClientCredential): AssertionSigner | undefined {
  if (credential.kind !== 'certificate') return undefined;
  try {
    return createAssertionSigner({
      certificatePem: credential.certificatePem,
      privateKeyPem: credential.privateKeyPem,
      ...(credential.passphrase !== undefined ? { passphrase: credential.passphrase } : {}),
      ...(credential.algorithm ? { algorithm: credential.algorithm } : {}),
      ...(credential.includeX5c ? { includeX5c: true } : {}),
    });
  } catch (err) {
    throw new SmtpOAuthError('CREDENTIAL_INVALID', 'The certificate or private key cannot be read', {
      cause: err,
      details: { field: 'auth.credential' },
    });
  }
}

/**
 * Expiry of a fresh token: `expires_in` counted from when the request started (conservative), else
 * the JWT's `exp`, else one hour.
 */
export function expiryOf(accessToken: string, expiresIn: unknown, startedAt: number): number {
  const seconds = typeof expiresIn === 'string' ? Number(expiresIn) : expiresIn;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0)
    return startedAt + seconds * 1000;
  const exp = decodeJwt(accessToken)?.payload.exp;
  if (typeof exp === 'number') return exp * 1000;
  return startedAt + 3600_000;
}
