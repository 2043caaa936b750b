/**
 * The one token cache (one MSAL client) of an email-server entry, built the same way whether the
 * entry's mailer runs on the main thread or in the mailer worker.
 */
import {
  createTokenCache,
  createTokenProvider,
  type EmailServerConfig,
  type Logger,
  type TokenCache,
} from '@org/core';

export function entryTokenCache(
  config: EmailServerConfig,
  options: { now: () => number; logger?: Logger },
): TokenCache {
  return createTokenCache(createTokenProvider(config, options), options);
}
