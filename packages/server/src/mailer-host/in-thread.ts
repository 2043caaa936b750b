/**
 * The mailer host without a worker (`mailerThread: false`): core's mailers and token caches on
 * this thread.
 */
import { createMailer, type Logger as CoreLogger } from '@org/core';
import { entryTokenCache } from '../entry-token-cache.js';
import type { TokenEndpointPolicy } from '../guards/outbound.js';
import { tokenUrlCheck } from '../guards/token-url.js';
import type { MailerHost } from './mailer-host.js';

export interface InThreadMailerHostOptions {
  /** The server's clock, ms. */
  now: () => number;
  /** Core's logger (records are redacted by core); `undefined` logs nothing. */
  logger?: CoreLogger | undefined;
  /** Each request an entry's token cache makes to a token endpoint: `ok` or the catalog code. */
  onTokenRequest?: (outcome: string) => void;
  /**
   * The S5 token-host allow-list: every URL the token providers contact must pass it
   * (guards/token-url.ts). Without it they contact any URL.
   */
  tokenPolicy?: TokenEndpointPolicy;
}

export function createInThreadMailerHost(options: InThreadMailerHostOptions): MailerHost {
  const logOption = options.logger ? { logger: options.logger } : {};
  const policy = options.tokenPolicy;
  // S5 for every URL the token providers contact, not only the configured endpoint (issue 13 §2).
  const checkUrlOption = policy ? { checkUrl: tokenUrlCheck(() => policy) } : {};
  let closed = false;
  return {
    entry(_key, config) {
      const tokens =
        config.auth.type === 'oauth2'
          ? entryTokenCache(config, {
              now: options.now,
              ...checkUrlOption,
              ...logOption,
              ...(options.onTokenRequest ? { onTokenRequest: options.onTokenRequest } : {}),
            })
          : undefined;
      return {
        tokens,
        async open({ connectAddress, options: mailerOptions }) {
          return createMailer(config, {
            ...mailerOptions,
            ...(tokens ? { tokenProvider: tokens } : {}),
            ...(connectAddress ? { connectAddress } : {}),
            now: options.now,
            ...logOption,
          });
        },
        release() {},
      };
    },
    alive: () => Promise.resolve(!closed),
    async close() {
      closed = true;
    },
  };
}
