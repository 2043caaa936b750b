export { type ErrorCategory, errorCategories, errorCategory } from './categories.js';
export { type ErrorCatalogEntry, type ErrorCode, catalogEntry, errorCatalog, errorCodes } from './catalog.js';
export type { ErrorContext } from './context.js';
export { errorFromNetwork } from './network-errors.js';
export { redactSecrets } from './redact.js';
export { errorFromSmtpReply, type SmtpReplyInput } from './smtp-errors.js';
export {
  ConfigError,
  type ConfigIssue,
  type ConfigIssueCode,
  type ErrorDetails,
  isSmtpOAuthError,
  SmtpOAuthError,
  type SmtpOAuthErrorJSON,
  type SmtpOAuthErrorOptions,
} from './smtp-oauth-error.js';
export { errorFromTokenResponse, parseRetryAfter, type TokenResponseInput } from './token-errors.js';
