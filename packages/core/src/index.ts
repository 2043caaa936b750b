/**
 * @org/core — send email through SMTP with OAuth2 (XOAUTH2) client credentials.
 * Browser code should import `@org/core/config` instead; this entry pulls in Node-only modules.
 */

// Config: schema and validation (also available browser-safe from `@org/core/config`)
export {
  type AuthConfig,
  type ConfigWarning,
  type ConfigWarningCode,
  type CredentialConfig,
  configJsonSchema,
  configWarnings,
  defineConfig,
  type EmailServerConfig,
  type EmailServerConfigInput,
  emailServerConfigSchema,
  emailServersFileSchema,
  formatPath,
  issuesFromZod,
  type OAuth2AuthConfig,
  type ParseConfigResult,
  parseConfig,
} from './config/index.js';

// Config: moving a password entry to OAuth2 (also browser-safe from `@org/core/config`)
export {
  type MigrationCredential,
  migrateToOAuth2,
  type OAuth2MigrationAnswers,
  type PasswordEntrySource,
} from './config/index.js';

// Config: presets and Microsoft specifics
export {
  applyPreset,
  type ConfigPreset,
  configPresets,
  type EntraCloud,
  type EntraCloudInfo,
  entraClouds,
  entraTokenEndpoint,
  generic,
  isEntraLoginHost,
  isGraphScope,
  isGuid,
  isMicrosoftHost,
  isValidTenant,
  microsoft365,
  microsoft365China,
  microsoft365Gcc,
  microsoft365Hve,
  type PresetValues,
  parseEntraTokenEndpoint,
  tenantProblem,
} from './config/index.js';

// Config: the national-cloud model of an entry (token host, scope, SMTP host)
export {
  type CloudConflict,
  type CloudFields,
  cloudIssues,
  cloudOfScope,
  cloudOfSmtpHost,
  cloudOfTokenEndpoint,
  type EntryCloud,
  entryCloud,
} from './config/index.js';

// Config: redaction for display
export {
  type PublicAuthConfig,
  type PublicCredential,
  type PublicEmailServerConfig,
  redactConfig,
} from './config/index.js';

// Config: secret fields and updates that keep stored secrets (S3)
export {
  CREDENTIAL_FIELDS,
  type CredentialField,
  type CredentialFieldEncoding,
  changedDestination,
  DESTINATION_PATHS,
  planSecretUpdate,
  type RequiredSecret,
  SECRET_PATHS,
  type SecretPath,
  type SecretUpdatePlan,
} from './config/index.js';

// Config: loading from files and the environment (Node only)
export {
  type ConfigEnvVariable,
  type ConfigFromEnvOptions,
  configEnvVariables,
  configFromEnv,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfigFile,
} from './config/load.js';

// Credentials (Node only)
export {
  type CertificateCredential,
  type CertificateInfo,
  describeCertificate,
  type LoadCertificateOptions,
  loadCertificateCredential,
  normalizeThumbprint,
  type PemCertificateInput,
  type PfxCertificateInput,
  redactConfigWithCertificate,
} from './credentials/index.js';

// Errors: the catalog and the mapping of server replies
export {
  ConfigError,
  type ConfigIssue,
  type ConfigIssueCode,
  catalogEntry,
  type ErrorCatalogEntry,
  type ErrorCategory,
  type ErrorCode,
  type ErrorContext,
  type ErrorDetails,
  errorCatalog,
  errorCategories,
  errorCategory,
  errorCodes,
  errorFromNetwork,
  errorFromSmtpReply,
  errorFromTokenResponse,
  isSmtpOAuthError,
  parseRetryAfter,
  redactSecrets,
  SmtpOAuthError,
  type SmtpOAuthErrorJSON,
  type SmtpOAuthErrorOptions,
  type SmtpReplyInput,
  type TokenResponseInput,
} from './errors/index.js';

// Messages: validation before any network I/O
export {
  type AddressInput,
  type AttachmentAccess,
  type AttachmentEncoding,
  addressProblem,
  createMessageId,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  hasLineBreakOrNul,
  isEmailAddress,
  type MailAddress,
  type MailAttachment,
  type MailEnvelope,
  type MailMessage,
  type NormalizedAttachment,
  type NormalizedMessage,
  splitAddressList,
  type ValidateMessageOptions,
  validateMessage,
} from './message/index.js';

// Tokens: providers, the cache (single flight, proactive refresh) and token inspection (Node only)
export {
  type AccessToken,
  type AccessTokenTest,
  type CheckUrl,
  type ClientAuthMethod,
  type ClientCredential,
  type CreateTokenProviderOptions,
  createEntraTokenProvider,
  createOAuth2TokenProvider,
  createTokenCache,
  createTokenProvider,
  type EntraTokenProviderOptions,
  exchangeAudiences,
  type FetchLike,
  type FetchLikeInit,
  type FetchLikeResponse,
  type GetTokenOptions,
  type InspectAccessTokenOptions,
  inspectAccessToken,
  type Logger,
  type LogLevel,
  type OAuth2TokenProviderOptions,
  type ProxySetting,
  type RetryOptions,
  SMTP_SEND_AS_APP_ROLE,
  type TestAccessTokenOptions,
  testAccessToken,
  type TokenCache,
  type TokenCacheOptions,
  type TokenCheck,
  type TokenFinding,
  type TokenInspection,
  type TokenProvider,
  type TokenProviderBaseOptions,
  type TokenThrottleReason,
  type TokenThrottleState,
} from './tokens/index.js';

// Mailer: pooled SMTP with XOAUTH2 (Node only)
export {
  createMailer,
  EXCHANGE_MAX_CONNECTIONS,
  EXCHANGE_MESSAGES_PER_MINUTE,
  type Mailer,
  type MailerLimits,
  type MailerOptions,
  type RawMessage,
  type SendResult,
  type SendTestOptions,
  type SendTestResult,
  sendTest,
} from './mailer/index.js';

// Diagnostics: the doctor (Node only)
export {
  type DiagnoseLookup,
  type DiagnoseOptions,
  type DiagnoseResult,
  type DiagnoseTokenProvider,
  type DiagnosticFix,
  type DiagnosticLink,
  type DiagnosticStatus,
  type DiagnosticStep,
  type DiagnosticStepId,
  diagnose,
} from './doctor/index.js';
