export { type TokenCache, type TokenCacheOptions, createTokenCache } from './cache.js';
export { type CreateTokenProviderOptions, createTokenProvider } from './create.js';
export { type EntraTokenProviderOptions, createEntraTokenProvider } from './entra.js';
export {
  exchangeAudiences,
  type InspectAccessTokenOptions,
  inspectAccessToken,
  SMTP_SEND_AS_APP_ROLE,
  type TokenCheck,
  type TokenFinding,
  type TokenInspection,
} from './inspect.js';
export { type AccessTokenTest, type TestAccessTokenOptions, testAccessToken } from './token-test.js';
export {
  type ClientAuthMethod,
  createOAuth2TokenProvider,
  type OAuth2TokenProviderOptions,
} from './oauth2.js';
export type { TokenThrottleReason, TokenThrottleState } from './throttle.js';
export type {
  AccessToken,
  ClientCredential,
  GetTokenOptions,
  TokenProvider,
  TokenProviderBaseOptions,
} from './types.js';
export type { Logger, LogLevel } from '../internal/logger.js';
export type { RetryOptions } from '../internal/retry.js';
export type {
  CheckUrl,
  FetchLike,
  FetchLikeInit,
  FetchLikeResponse,
  ProxySetting,
} from '../internal/https-fetch.js';
