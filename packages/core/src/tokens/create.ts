import type { INetworkModule } from '@azure/msal-node';
import type { EmailServerConfig } from '../config/schema.js';
import { loadCertificateCredential } from '../credentials/index.js';
import { ConfigError } from '../errors/index.js';
import type { CheckUrl, FetchLike, ProxySetting } from '../internal/https-fetch.js';
import type { Logger } from '../internal/logger.js';
import type { RetryOptions } from '../internal/retry.js';
import { createEntraTokenProvider } from './entra.js';
import { createOAuth2TokenProvider } from './oauth2.js';
import type { ClientCredential, TokenProvider, TokenProviderBaseOptions } from './types.js';
import { expectEmailServerConfig, expectObject } from '../internal/guard.js';

/** Options of {@link createTokenProvider}: the I/O seams of the chosen provider. */
export interface CreateTokenProviderOptions {
  /**
   * Extra CA certificates (PEM) trusted for the token endpoint, in addition to the system roots.
   * @default the entry's `tls.ca` (a private CA usually signs both the SMTP and the token server)
   */
  ca?: string | string[];
  /**
   * Proxy for the token endpoint when the entry names none (`proxy.url` wins): a URL or a function
   * of the target URL, e.g. from `HTTPS_PROXY`/`NO_PROXY` in an entry point. @default direct
   */
  proxy?: ProxySetting;
  /** @default Date.now */
  now?: () => number;
  logger?: Logger;
  retry?: RetryOptions | false;
  timeoutMs?: number;
  /** HTTP client of the generic provider. */
  fetch?: FetchLike;
  /** MSAL network module of the Entra provider. */
  networkClient?: INetworkModule;
  /** Client-assertion style for certificate credentials. @default 'PS256' */
  assertionAlgorithm?: 'PS256' | 'RS256';
  /**
   * Called before every request of the provider (token endpoint, and the URLs the identity
   * provider names); throw to refuse. See {@link TokenProviderBaseOptions.checkUrl}. The server
   * passes its token-host allow-list; the CLI leaves it unset (its operator is its user).
   * @default every URL allowed
   */
  checkUrl?: CheckUrl;
}

/**
 * Builds the token provider an email-server entry asks for: `provider: 'entra'` → MSAL
 * ({@link createEntraTokenProvider}), `'generic'` → plain OAuth2 ({@link createOAuth2TokenProvider}).
 * Certificates (PEM or PFX) are loaded and checked first.
 *
 * @throws ConfigError, synchronously: `CONFIG_INVALID` when the entry is not an OAuth2 entry or has
 * the wrong shape; `CREDENTIAL_INVALID` / `CREDENTIAL_EXPIRED` from loading the certificate or PFX
 * (a wrong passphrase included).
 */
export function createTokenProvider(
  config: EmailServerConfig,
  options: CreateTokenProviderOptions = {},
): TokenProvider {
  expectEmailServerConfig(config);
  expectObject(options, 'options');
  const { auth } = config;
  if (auth.type !== 'oauth2')
    throw new ConfigError([
      { path: 'auth.type', message: `is '${auth.type}'; a token provider needs 'oauth2'` },
    ]);
  let credential: ClientCredential;
  if (auth.credential.kind === 'secret') credential = { kind: 'secret', secret: auth.credential.secret };
  else {
    const loaded = loadCertificateCredential(auth.credential, options.now ? { now: options.now } : {});
    credential = {
      kind: 'certificate',
      certificatePem: loaded.certificatePem,
      privateKeyPem: loaded.privateKeyPem,
      ...(options.assertionAlgorithm ? { algorithm: options.assertionAlgorithm } : {}),
    };
  }
  const ca = options.ca ?? config.tls?.ca;
  const proxy = config.proxy?.url ?? options.proxy;
  const base = {
    tokenEndpoint: auth.tokenEndpoint,
    clientId: auth.clientId,
    scope: auth.scope,
    credential,
    ...(ca ? { ca } : {}),
    ...(proxy ? { proxy } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.checkUrl ? { checkUrl: options.checkUrl } : {}),
  };
  if (auth.provider === 'entra')
    return createEntraTokenProvider({
      ...base,
      ...(options.networkClient ? { networkClient: options.networkClient } : {}),
    });
  return createOAuth2TokenProvider({
    ...base,
    ...(auth.clientAuthMethod ? { clientAuthMethod: auth.clientAuthMethod } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
