/**
 * Browser-safe configuration entry (`@org/core/config`): schema, validation, presets, redaction.
 * Nothing here may import `node:*` or Node-only packages; the admin UI bundles it.
 */

// Schema and types
export {
  type AuthConfig,
  type CredentialConfig,
  type EmailServerConfig,
  type EmailServerConfigInput,
  emailServerConfigSchema,
  emailServersFileSchema,
  type OAuth2AuthConfig,
} from './schema.js';

// Validation
export {
  type ConfigWarning,
  type ConfigWarningCode,
  configWarnings,
  defineConfig,
  formatPath,
  issuesFromZod,
  type ParseConfigResult,
  parseConfig,
} from './parse.js';
export { configJsonSchema } from './json-schema.js';
export {
  type MigrationCredential,
  migrateToOAuth2,
  type OAuth2MigrationAnswers,
  type PasswordEntrySource,
} from './migrate.js';
export { ConfigError, type ConfigIssue, type ConfigIssueCode } from '../errors/smtp-oauth-error.js';
export { normalizeThumbprint } from './thumbprint.js';

// Presets and Microsoft specifics
export {
  applyPreset,
  type ConfigPreset,
  configPresets,
  generic,
  microsoft365,
  microsoft365China,
  microsoft365Gcc,
  microsoft365Hve,
  type PresetValues,
} from './presets.js';
export {
  type EntraCloud,
  type EntraCloudInfo,
  cloudOfLoginHost,
  entraClouds,
  entraTokenEndpoint,
  isEntraLoginHost,
  isGraphScope,
  isGuid,
  isMicrosoftHost,
  isValidTenant,
  parseEntraTokenEndpoint,
  tenantProblem,
} from './microsoft.js';

export {
  type CloudConflict,
  type CloudFields,
  cloudIssues,
  cloudOfScope,
  cloudOfSmtpHost,
  cloudOfTokenEndpoint,
  type EntryCloud,
  entryCloud,
} from './cloud.js';

// Redaction for display
export {
  type PublicAuthConfig,
  type PublicCredential,
  type PublicEmailServerConfig,
  redactConfig,
} from './redact.js';

// Secret fields: split, merge, and reading an update against what is stored (S3)
export {
  CREDENTIAL_FIELDS,
  type CredentialField,
  type CredentialFieldEncoding,
  changedDestination,
  DESTINATION_PATHS,
  hasValueAt,
  mergeSecrets,
  planSecretUpdate,
  type RequiredSecret,
  SECRET_PATHS,
  type SecretPath,
  type SecretUpdatePlan,
  splitSecrets,
  validateUpdate,
  valueAtPath,
} from './secrets.js';
