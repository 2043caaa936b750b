import {
  errorFromNetwork,
  errorFromTokenResponse,
  isSmtpOAuthError,
  redactSecrets,
  SmtpOAuthError,
} from '../errors/index.js';
import {
  createHttpsFetch,
  type FetchLike,
  guardedFetch,
  headersToRecord,
  timeoutAsErrno,
} from '../internal/https-fetch.js';
import { safeLogger } from '../internal/logger.js';
import { resolveRetry } from '../internal/retry.js';
import { checkTokenEndpoint, expiryOf, signerFor, tokenErrorContext } from './shared.js';
import { createTokenThrottle, requestThrottled, throttlePolicy } from './throttle.js';
import type { AccessToken, TokenProvider, TokenProviderBaseOptions } from './types.js';
import { expectTokenProviderOptions } from '../internal/guard.js';

/** How the client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Options of {@link createOAuth2TokenProvider}. */
export interface OAuth2TokenProviderOptions extends TokenProviderBaseOptions {
  /**
   * @default 'client_secret_post' for a secret, 'private_key_jwt' for a certificate
   */
  clientAuthMethod?: ClientAuthMethod;
  /**
   * The HTTP client. @default global `fetch`, or an https client trusting `ca` when `ca` is set
   */
  fetch?: FetchLike;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// RFC 6749 §2.3.1: id and secret are form-url-encoded before Basic encoding.
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/**
 * Client-credentials token provider for any OAuth2 server (Entra included), by plain HTTP POST.
 * Supports `client_secret_basic`, `client_secret_post` and `private_key_jwt` (RS256 + `x5t` or
 * PS256 + `x5t#S256`, signed with node:crypto; a fresh `jti` per request).
 *
 * @remarks Does not cache: wrap it in {@link createTokenCache}. Retries 429 (after Retry-After),
 * 5xx and network failures with bounded backoff; never retries `invalid_client`.
 *
 * @example
 * const provider = createOAuth2TokenProvider({
 *   tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
 *   clientId, scope: 'https://outlook.office365.com/.default',
 *   credential: { kind: 'secret', secret },
 * });
 */
export function createOAuth2TokenProvider(options: OAuth2TokenProviderOptions): TokenProvider {
  expectTokenProviderOptions(options);
  const parsedEndpoint = checkTokenEndpoint(options.tokenEndpoint);
  const endpoint = parsedEndpoint.href;
  const now = options.now ?? Date.now;
  const log = safeLogger(options.logger);
  const policy = { ...resolveRetry(options.retry), ...throttlePolicy(options.retry) };
  const ctx = tokenErrorContext(options, parsedEndpoint, now);
  const throttle = createTokenThrottle({ now, policy, host: ctx.host, proxy: ctx.proxy });
  const { credential } = options;
  const method: ClientAuthMethod =
    options.clientAuthMethod ?? (credential.kind === 'secret' ? 'client_secret_post' : 'private_key_jwt');
  if (method === 'private_key_jwt' && credential.kind !== 'certificate')
    throw new SmtpOAuthError('CONFIG_INVALID', 'private_key_jwt needs a certificate credential', {
      details: { field: 'auth.clientAuthMethod' },
    });
  if (method !== 'private_key_jwt' && credential.kind !== 'secret')
    throw new SmtpOAuthError('CONFIG_INVALID', `${method} needs a secret credential`, {
      details: { field: 'auth.clientAuthMethod' },
    });
  const signer = signerFor(credential);
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Every request is checked (checkUrl) and a redirect is an error: the body carries the secret.
  const doFetch: FetchLike = guardedFetch(
    options.fetch ??
      (options.ca || options.proxy
        ? createHttpsFetch({
            ...(options.ca ? { ca: options.ca } : {}),
            ...(options.proxy ? { proxy: options.proxy } : {}),
            timeoutMs,
          })
        : (globalThis.fetch as unknown as FetchLike)),
    options.checkUrl,
  );

  async function requestOnce(): Promise<AccessToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (method === 'client_secret_basic' && credential.kind === 'secret') {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(options.clientId)}:${formEncode(credential.secret)}`).toString('base64')}`;
    } else if (method === 'client_secret_post' && credential.kind === 'secret') {
      form.set('client_id', options.clientId);
      form.set('client_secret', credential.secret);
    } else if (signer) {
      form.set('client_id', options.clientId);
      form.set('client_assertion_type', JWT_BEARER);
      form.set(
        'client_assertion',
        signer.sign({ clientId: options.clientId, audience: endpoint, nowMs: now() }),
      );
    }
    const startedAt = now();
    let status: number;
    let text: string;
    let responseHeaders: Record<string, string>;
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const res = await doFetch(endpoint, { method: 'POST', headers, body: form.toString(), signal });
      status = res.status;
      responseHeaders = headersToRecord(res.headers);
      text = await res.text();
    } catch (err) {
      // A refused URL or redirect (guardedFetch) is already typed.
      if (isSmtpOAuthError(err)) throw err;
      throw (
        errorFromNetwork(timeoutAsErrno(err), ctx) ??
        new SmtpOAuthError('NETWORK_CONNECT', `Token request to ${ctx.host ?? 'the token endpoint'} failed`, {
          cause: err,
        })
      );
    }
    if (status >= 200 && status < 300) {
      let body: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(text);
        body = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const accessToken = body?.access_token;
      if (body && typeof accessToken === 'string' && accessToken.length > 0) {
        return {
          accessToken,
          expiresAt: expiryOf(accessToken, body.expires_in, startedAt),
          tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
        };
      }
    }
    throw errorFromTokenResponse({ status, body: text, headers: responseHeaders }, ctx);
  }

  return {
    throttleState: () => throttle.state(),
    async getToken(opts = {}) {
      try {
        const token = await requestThrottled(
          throttle,
          requestOnce,
          policy,
          opts.retry !== false,
          ({ attempt, delayMs, error }) =>
            log.log('warn', `Token request failed (attempt ${attempt}); retrying in ${delayMs} ms`, {
              code: isSmtpOAuthError(error) ? error.code : undefined,
            }),
        );
        log.log('debug', 'Obtained access token', { provider: 'oauth2', method, expiresAt: token.expiresAt });
        return token;
      } catch (err) {
        log.log(
          'warn',
          `Token request failed: ${redactSecrets(err instanceof Error ? err.message : String(err))}`,
          {
            code: isSmtpOAuthError(err) ? err.code : undefined,
          },
        );
        throw err;
      }
    },
  };
}
