/**
 * The one token cache (one MSAL client) of an email-server entry, built the same way whether the
 * entry's mailer runs on the main thread or in the mailer worker.
 */
import {
  type CheckUrl,
  createTokenCache,
  createTokenProvider,
  type EmailServerConfig,
  isSmtpOAuthError,
  type Logger,
  type TokenCache,
  type TokenProvider,
} from '@org/core';

export function entryTokenCache(
  config: EmailServerConfig,
  options: {
    now: () => number;
    logger?: Logger;
    /** Called once per request to the token endpoint (not per cached use): `ok` or the catalog code (metrics). */
    onTokenRequest?: (outcome: string) => void;
    /** The S5 allow-list, applied to every URL the provider contacts (guards/token-url.ts). */
    checkUrl?: CheckUrl;
  },
): TokenCache {
  const { onTokenRequest, checkUrl, ...rest } = options;
  const provider = createTokenProvider(config, { ...rest, ...(checkUrl ? { checkUrl } : {}) });
  const counted: TokenProvider = onTokenRequest
    ? {
        async getToken(o) {
          try {
            const token = await provider.getToken(o);
            onTokenRequest('ok');
            return token;
          } catch (error) {
            onTokenRequest(isSmtpOAuthError(error) ? error.code : 'error');
            throw error;
          }
        },
      }
    : provider;
  return createTokenCache(counted, rest);
}
