import { parseEntraTokenEndpoint } from '../config/microsoft.js';
import { ConfigError, type ErrorContext, SmtpOAuthError } from '../errors/index.js';
import { type AssertionSigner, createAssertionSigner, decodeJwt } from '../internal/jwt.js';
import type { ClientCredential, TokenProviderBaseOptions } from './types.js';

/** The user's values for hints: tenant (from the endpoint path), client id, scope, host. */
export function tokenErrorContext(options: TokenProviderBaseOptions, now: () => number): ErrorContext {
  const ctx: ErrorContext = { clientId: options.clientId, scope: options.scope, now };
  const parsed = parseEntraTokenEndpoint(options.tokenEndpoint);
  if (parsed) ctx.tenant = parsed.tenant;
  try {
    ctx.host = new URL(options.tokenEndpoint).hostname;
  } catch {
    // validated elsewhere
  }
  return ctx;
}

/** Refuses endpoints that would leak the credential: anything but https, or with user info. */
export function checkTokenEndpoint(tokenEndpoint: string): URL {
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
  return url;
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
