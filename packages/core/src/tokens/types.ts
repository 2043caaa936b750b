import type { CheckUrl, ProxySetting } from '../internal/https-fetch.js';
import type { Logger } from '../internal/logger.js';
import type { RetryOptions } from '../internal/retry.js';
import type { TokenThrottleState } from './throttle.js';

/** An OAuth2 access token and when it stops being valid. */
export interface AccessToken {
  /** The bearer token. A secret: never log it. */
  accessToken: string;
  /** Expiry, ms since the epoch, on the provider's clock (`now` option). */
  expiresAt: number;
  /** `Bearer` for Entra and most providers. */
  tokenType: string;
}

/** Options of one {@link TokenProvider.getToken} call. */
export interface GetTokenOptions {
  /** Skip any cache and ask the token endpoint. @default false */
  forceRefresh?: boolean;
  /**
   * Let the provider retry transient failures itself (bounded, paced by its throttle). `false`:
   * at most one request, refused fast while the throttle holds — for callers that retry on their
   * own, such as {@link createTokenCache}. @default true
   */
  retry?: boolean;
}

/**
 * Anything that can produce an access token for SMTP XOAUTH2. Implementations in this package:
 * {@link createEntraTokenProvider}, {@link createOAuth2TokenProvider}, and the caching wrapper
 * {@link createTokenCache}.
 */
export interface TokenProvider {
  /**
   * @throws SmtpOAuthError `TOKEN_THROTTLED` / `TOKEN_SERVICE_UNAVAILABLE` at once, without a
   * request, while the provider's throttle holds (`details.retryAfterMs`, `details.retryAt`).
   */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /**
   * The provider's throttle (S9): set while token requests are held back after a 429 or failures
   * in a row; `undefined` when healthy. Providers of this package have one; a cache uses it to
   * serve a still-valid token without waiting.
   */
  throttleState?(): TokenThrottleState | undefined;
}

/** A client secret, or a certificate with its private key. */
export type ClientCredential =
  | { kind: 'secret'; secret: string }
  | {
      kind: 'certificate';
      certificatePem: string;
      privateKeyPem: string;
      /** Passphrase of an encrypted private key. */
      passphrase?: string;
      /**
       * Assertion style: PS256 with `x5t#S256` (what current MSAL sends) or RS256 with `x5t` (SHA-1,
       * older clients).
       * @default 'PS256'
       */
      algorithm?: 'PS256' | 'RS256';
      /** Send the certificate in the `x5c` header (subject-name/issuer authentication). @default false */
      includeX5c?: boolean;
    };

/** Options every token provider takes. */
export interface TokenProviderBaseOptions {
  /** Token endpoint, e.g. `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`. */
  tokenEndpoint: string;
  /** Application (client) id. */
  clientId: string;
  /** e.g. `https://outlook.office365.com/.default`. */
  scope: string;
  credential: ClientCredential;
  /**
   * Extra CA certificates (PEM) to trust for the token endpoint, in addition to the system roots:
   * a TLS-inspecting corporate proxy or a private identity provider.
   */
  ca?: string | string[];
  /**
   * HTTP CONNECT proxy for the token endpoint: a URL (`http://proxy.corp:3128`), or a function that
   * picks one per target URL. Used by this package's own HTTP client (and MSAL through it); a
   * custom `fetch` or `networkClient` brings its own. Never read from the environment here: the
   * CLI and the server pass `HTTPS_PROXY`/`NO_PROXY` in. @default direct
   */
  proxy?: ProxySetting;
  /** Clock, ms since the epoch: token expiry and assertion times. @default Date.now */
  now?: () => number;
  /** Diagnostics; never receives secrets or tokens. */
  logger?: Logger;
  /**
   * Retries of transient failures (429 honouring Retry-After, 5xx, network), bounded, with
   * backoff and jitter. `invalid_client` and other 4xx are never retried. `false` disables the
   * retries of one call; the throttle (no request before Retry-After or the next backoff step,
   * shared by every caller) stays. `baseDelayMs`/`maxDelayMs` are the throttle's backoff.
   * @default { attempts: 4, baseDelayMs: 1000, maxDelayMs: 60000, maxRetryAfterMs: 60000 }
   */
  retry?: RetryOptions | false;
  /** Per-request timeout. @default 30000 */
  timeoutMs?: number;
  /**
   * Called with every URL the provider is about to contact, before the request is sent: the token
   * endpoint, and for Entra (MSAL) also the URLs the identity provider names — instance discovery,
   * the OpenID metadata, its `token_endpoint` and `jwks_uri`. Throw to refuse: no request goes to
   * that URL, and the token request fails. A server passes its token-host allow-list here, so
   * metadata that points elsewhere cannot carry the client credential past it (S5).
   *
   * Redirects are never followed (the requests carry the credential): a 3xx answer is an error,
   * `TOKEN_ENDPOINT_REJECTED`, not a hop — so there is no hop to check. This holds for custom
   * `fetch`/`networkClient` too, which are called with `redirect: 'manual'` and guarded the same way.
   *
   * @throws SmtpOAuthError `TOKEN_ENDPOINT_NOT_ALLOWED` from `getToken` when it throws (an
   * `SmtpOAuthError` it throws is passed through unchanged, so a caller can give its own hint).
   * @default every URL allowed
   */
  checkUrl?: CheckUrl;
}
