import { randomUUID } from 'node:crypto';
import {
  AuthError,
  type Configuration,
  ConfidentialClientApplication,
  type INetworkModule,
  LogLevel,
  type NetworkRequestOptions,
  type NetworkResponse,
  ServerError,
} from '@azure/msal-node';
import { isEntraLoginHost } from '../config/microsoft.js';
import {
  ConfigError,
  type ErrorContext,
  errorFromNetwork,
  errorFromTokenResponse,
  isSmtpOAuthError,
  redactSecrets,
  SmtpOAuthError,
} from '../errors/index.js';
import { withCause } from '../internal/cause.js';
import {
  assertUrlAllowed,
  createHttpsFetch,
  type CheckUrl,
  type FetchLike,
  headersToRecord,
  redirectRefused,
  timeoutAsErrno,
} from '../internal/https-fetch.js';
import { safeLogger } from '../internal/logger.js';
import { resolveRetry } from '../internal/retry.js';
import { checkTokenEndpoint, expiryOf, signerFor, tokenErrorContext } from './shared.js';
import { createTokenThrottle, requestThrottled, throttlePolicy } from './throttle.js';
import type { AccessToken, TokenProvider, TokenProviderBaseOptions } from './types.js';
import { expectTokenProviderOptions } from '../internal/guard.js';

/** Options of {@link createEntraTokenProvider}. */
export interface EntraTokenProviderOptions extends TokenProviderBaseOptions {
  /**
   * MSAL's HTTP client. @default an https client over node:https that trusts `ca` in addition to
   * the system roots and goes through `proxy` (so MSAL's discovery and token requests both do)
   */
  networkClient?: INetworkModule;
}

/** One HTTP exchange MSAL made, kept only for the duration of one token request (error mapping). */
interface Exchange {
  method: 'GET' | 'POST';
  url: string;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  error?: unknown;
}

function parseJson(text: string): unknown {
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** MSAL's INetworkModule over a fetch-like client. Non-JSON bodies are reported as `{}` to MSAL. */
function fetchNetworkModule(
  fetch: FetchLike,
  timeoutMs: number,
): INetworkModule & { rawBodies: WeakMap<object, string> } {
  const rawBodies = new WeakMap<object, string>();
  async function send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    const res = await fetch(url, {
      method,
      headers: options?.headers ?? {},
      ...(options?.body !== undefined ? { body: options.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const parsed = parseJson(text);
    const body = (parsed && typeof parsed === 'object' ? parsed : {}) as object;
    if (parsed === undefined || typeof parsed !== 'object') rawBodies.set(body, text.slice(0, 2000));
    return { status: res.status, headers: headersToRecord(res.headers), body: body as T };
  }
  return {
    rawBodies,
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

/**
 * Wraps a network module so MSAL contacts only URLs `check` allows — the authority's metadata, the
 * `token_endpoint` it names, instance discovery — and never follows a redirect.
 */
function checkingNetworkModule(inner: INetworkModule, check: CheckUrl | undefined): INetworkModule {
  const refuseRedirect = async <T>(url: string, res: Promise<NetworkResponse<T>>) => {
    const r = await res;
    if (r.status >= 300 && r.status < 400) {
      const location = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'location')?.[1];
      throw redirectRefused(url, r.status, location);
    }
    return r;
  };
  return {
    async sendGetRequestAsync(url, options, timeout) {
      await assertUrlAllowed(check, url);
      return refuseRedirect(url, inner.sendGetRequestAsync(url, options, timeout));
    },
    async sendPostRequestAsync(url, options) {
      await assertUrlAllowed(check, url);
      return refuseRedirect(url, inner.sendPostRequestAsync(url, options));
    },
  };
}

/** Wraps a network module so the exchanges of the current token request can be inspected. */
function recordingNetworkModule(
  inner: INetworkModule,
  current: () => Exchange[] | undefined,
): INetworkModule {
  async function record<T>(method: 'GET' | 'POST', url: string, run: () => Promise<NetworkResponse<T>>) {
    const exchanges = current();
    try {
      const res = await run();
      exchanges?.push({ method, url, status: res.status, headers: res.headers, body: res.body });
      return res;
    } catch (error) {
      exchanges?.push({ method, url, error });
      throw error;
    }
  }
  return {
    sendGetRequestAsync: (url, options, timeout) =>
      record('GET', url, () => inner.sendGetRequestAsync(url, options, timeout)),
    sendPostRequestAsync: (url, options) =>
      record('POST', url, () => inner.sendPostRequestAsync(url, options)),
  };
}

/**
 * Entra ID token provider on `@azure/msal-node`'s `ConfidentialClientApplication` (one instance per
 * provider), with a client secret or a certificate.
 *
 * The authority is derived from the token endpoint (`https://host/{tenant}/oauth2/v2.0/token` →
 * `https://host/{tenant}`); a host that is not a Microsoft login host is added to
 * `knownAuthorities` so MSAL skips Microsoft's instance discovery for it.
 *
 * @remarks Certificates are presented through MSAL's `clientAssertion` callback rather than
 * `clientCertificate`: MSAL caches its signed assertion (and so its `jti`) for ten minutes and
 * stamps it with the wall clock, while Entra refuses a replayed `jti`; the callback signs a fresh
 * assertion per request on this provider's `now`. MSAL's own token cache is bypassed
 * (`skipCache`) — caching is {@link createTokenCache}'s job — and MSAL's PII logging stays off.
 */
export function createEntraTokenProvider(options: EntraTokenProviderOptions): TokenProvider {
  expectTokenProviderOptions(options);
  const parsed = checkTokenEndpoint(options.tokenEndpoint);
  const endpoint = parsed.url;
  if (!parsed.tenant)
    throw new ConfigError([
      {
        path: 'auth.tokenEndpoint',
        message: 'must be the v2.0 token endpoint https://<login host>/<tenant>/oauth2/v2.0/token',
      },
    ]);
  const now = options.now ?? Date.now;
  const log = safeLogger(options.logger);
  const policy = { ...resolveRetry(options.retry), ...throttlePolicy(options.retry) };
  const ctx: ErrorContext = tokenErrorContext(options, parsed, now);
  const throttle = createTokenThrottle({ now, policy, host: ctx.host, proxy: ctx.proxy });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const authority = `${endpoint.origin}/${encodeURIComponent(parsed.tenant)}`;
  // The network exchanges of the token request in flight. Requests of one provider run one at a
  // time (see requestOnce), so a plain variable attributes them; AsyncLocalStorage would do it too,
  // but on Node 20 it turns on promise hooks for the whole process, taxing every await of the app.
  let currentExchanges: Exchange[] | undefined;
  let previousRequest: Promise<unknown> = Promise.resolve();
  const ownModule = options.networkClient
    ? undefined
    : fetchNetworkModule(
        createHttpsFetch({
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.proxy ? { proxy: options.proxy } : {}),
          timeoutMs,
        }),
        timeoutMs,
      );
  const networkClient = recordingNetworkModule(
    checkingNetworkModule(options.networkClient ?? (ownModule as INetworkModule), options.checkUrl),
    () => currentExchanges,
  );
  const signer = signerFor(options.credential);

  const auth: Configuration['auth'] = { clientId: options.clientId, authority };
  if (!isEntraLoginHost(endpoint.hostname)) auth.knownAuthorities = [endpoint.host];
  if (options.credential.kind === 'secret') auth.clientSecret = options.credential.secret;
  else if (signer) {
    auth.clientAssertion = async (config) =>
      signer.sign({
        clientId: options.clientId,
        audience: config.tokenEndpoint ?? endpoint.toString(),
        nowMs: now(),
      });
  }
  const app = new ConfidentialClientApplication({
    auth,
    system: {
      networkClient,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Info,
        loggerCallback: (_level, message, containsPii) => {
          if (!containsPii) log.log('trace', `msal: ${message}`);
        },
      },
    },
  });

  function mapError(err: unknown, exchanges: Exchange[]): SmtpOAuthError {
    if (isSmtpOAuthError(err)) return err;
    const failed = [...exchanges]
      .reverse()
      .find((x) => x.error !== undefined || (x.status !== undefined && (x.status < 200 || x.status >= 300)));
    // A URL refused by checkUrl, or a redirect: already typed, whatever MSAL made of it.
    if (isSmtpOAuthError(failed?.error)) return failed.error;
    if (failed?.error !== undefined) {
      return (
        errorFromNetwork(timeoutAsErrno(failed.error), ctx) ??
        new SmtpOAuthError('NETWORK_CONNECT', `Token request to ${endpoint.hostname} failed`, {
          cause: failed.error,
        })
      );
    }
    const rawOf = (x: Exchange) =>
      x.body && typeof x.body === 'object' ? (ownModule?.rawBodies.get(x.body) ?? x.body) : x.body;
    if (failed?.status !== undefined) {
      return withCause(
        errorFromTokenResponse(
          { status: failed.status, body: rawOf(failed), headers: failed.headers ?? {} },
          ctx,
        ),
        err,
      );
    }
    const lastPost = [...exchanges].reverse().find((x) => x.method === 'POST');
    if (lastPost?.status !== undefined && !(err instanceof ServerError)) {
      return withCause(
        errorFromTokenResponse(
          { status: lastPost.status, body: rawOf(lastPost), headers: lastPost.headers ?? {} },
          ctx,
        ),
        err,
      );
    }
    if (err instanceof ServerError) {
      const code = Number(err.errorNo);
      const description =
        /Description: (.*?)(?: - Correlation ID:|$)/s.exec(err.errorMessage)?.[1] ?? err.errorMessage;
      return withCause(
        errorFromTokenResponse(
          {
            status: err.status ?? 400,
            body: {
              error: err.errorCode,
              error_description: description,
              ...(Number.isFinite(code) ? { error_codes: [code] } : {}),
            },
          },
          ctx,
        ),
        err,
      );
    }
    const what = err instanceof AuthError ? `${err.errorCode}: ${err.errorMessage}` : String(err);
    return new SmtpOAuthError(
      'TOKEN_ENDPOINT_REJECTED',
      `MSAL could not get a token: ${redactSecrets(what)}`,
      {
        cause: err,
      },
    );
  }

  /** One token request at a time per provider (the token cache makes them rare anyway). */
  function requestOnce(): Promise<AccessToken> {
    const request = previousRequest.then(requestAlone, requestAlone);
    previousRequest = request.catch(() => undefined);
    return request;
  }

  async function requestAlone(): Promise<AccessToken> {
    const exchanges: Exchange[] = [];
    currentExchanges = exchanges;
    const startedAt = now();
    try {
      const result = await app.acquireTokenByClientCredential({
        scopes: [options.scope],
        skipCache: true,
        correlationId: randomUUID(),
      });
      if (!result?.accessToken)
        throw new SmtpOAuthError('TOKEN_RESPONSE_INVALID', 'MSAL returned no access token');
      const post = [...exchanges].reverse().find((x) => x.method === 'POST' && x.status === 200);
      const expiresIn =
        post?.body && typeof post.body === 'object'
          ? (post.body as { expires_in?: unknown }).expires_in
          : undefined;
      const expiresAt =
        expiresIn !== undefined
          ? expiryOf(result.accessToken, expiresIn, startedAt)
          : result.expiresOn
            ? startedAt + (result.expiresOn.getTime() - Date.now())
            : expiryOf(result.accessToken, undefined, startedAt);
      return { accessToken: result.accessToken, expiresAt, tokenType: result.tokenType || 'Bearer' };
    } catch (err) {
      // MSAL remembers 429/5xx (and Retry-After) and would refuse the next attempt on its own wall
      // clock; our retry policy owns the timing, so its throttle state is dropped.
      app.clearCache();
      throw mapError(err, exchanges);
    } finally {
      currentExchanges = undefined;
    }
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
        log.log('debug', 'Obtained access token', { provider: 'entra', expiresAt: token.expiresAt });
        return token;
      } catch (err) {
        log.log('warn', `Token request failed: ${err instanceof Error ? err.message : String(err)}`, {
          code: isSmtpOAuthError(err) ? err.code : undefined,
        });
        throw err;
      }
    },
  };
}
