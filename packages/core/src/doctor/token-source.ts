import type { EmailServerConfig } from '../config/schema.js';
import { createTokenProvider } from '../tokens/create.js';
import type { DiagnoseOptions, DiagnoseTokenProvider } from './types.js';

/**
 * Builds core's token provider for the entry, without retries: the doctor wants the token
 * endpoint's first answer as evidence, not a success after backoff.
 */
export function defaultTokenProvider(
  config: EmailServerConfig,
  options: DiagnoseOptions,
): DiagnoseTokenProvider {
  return createTokenProvider(config, {
    retry: false,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
    ...(options.tokenTimeoutMs ? { timeoutMs: options.tokenTimeoutMs } : {}),
    ...(options.checkUrl ? { checkUrl: options.checkUrl } : {}),
  });
}
