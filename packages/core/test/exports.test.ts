import { describe, expect, it } from 'vitest';

// Pins the public API: a change to either list shows up in review. Sorted so additions elsewhere
// in the barrel do not reorder the snapshot.
describe('public exports', () => {
  it('@org/core', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "CREDENTIAL_FIELDS",
        "ConfigError",
        "DEFAULT_MAX_MESSAGE_BYTES",
        "DEFAULT_MAX_RECIPIENTS",
        "DESTINATION_PATHS",
        "EXCHANGE_MAX_CONNECTIONS",
        "EXCHANGE_MESSAGES_PER_MINUTE",
        "SECRET_PATHS",
        "SMTP_SEND_AS_APP_ROLE",
        "SmtpOAuthError",
        "addressProblem",
        "applyPreset",
        "catalogEntry",
        "changedDestination",
        "configEnvVariables",
        "configFromEnv",
        "configJsonSchema",
        "configPresets",
        "configWarnings",
        "createEntraTokenProvider",
        "createMailer",
        "createMessageId",
        "createOAuth2TokenProvider",
        "createTokenCache",
        "createTokenProvider",
        "defineConfig",
        "describeCertificate",
        "diagnose",
        "emailServerConfigSchema",
        "emailServersFileSchema",
        "entraClouds",
        "entraTokenEndpoint",
        "errorCatalog",
        "errorCodes",
        "errorFromNetwork",
        "errorFromSmtpReply",
        "errorFromTokenResponse",
        "exchangeAudiences",
        "formatPath",
        "generic",
        "hasLineBreakOrNul",
        "inspectAccessToken",
        "isEmailAddress",
        "isEntraLoginHost",
        "isGraphScope",
        "isGuid",
        "isMicrosoftHost",
        "isSmtpOAuthError",
        "isValidTenant",
        "issuesFromZod",
        "loadCertificateCredential",
        "loadConfigFile",
        "microsoft365",
        "microsoft365China",
        "microsoft365Gcc",
        "normalizeThumbprint",
        "parseConfig",
        "parseEntraTokenEndpoint",
        "parseRetryAfter",
        "planSecretUpdate",
        "redactConfig",
        "redactConfigWithCertificate",
        "redactSecrets",
        "tenantProblem",
        "validateMessage",
      ]
    `);
  });

  it('@org/core/config (browser-safe)', async () => {
    expect(Object.keys(await import('../src/config/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "CREDENTIAL_FIELDS",
        "ConfigError",
        "DESTINATION_PATHS",
        "SECRET_PATHS",
        "applyPreset",
        "changedDestination",
        "configJsonSchema",
        "configPresets",
        "configWarnings",
        "defineConfig",
        "emailServerConfigSchema",
        "emailServersFileSchema",
        "entraClouds",
        "entraTokenEndpoint",
        "formatPath",
        "generic",
        "hasValueAt",
        "isEntraLoginHost",
        "isGraphScope",
        "isGuid",
        "isMicrosoftHost",
        "isValidTenant",
        "issuesFromZod",
        "mergeSecrets",
        "microsoft365",
        "microsoft365China",
        "microsoft365Gcc",
        "parseConfig",
        "parseEntraTokenEndpoint",
        "planSecretUpdate",
        "redactConfig",
        "splitSecrets",
        "tenantProblem",
        "validateUpdate",
        "valueAtPath",
      ]
    `);
  });

  it('@org/core/setup (browser-safe)', async () => {
    expect(Object.keys(await import('../src/setup/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "adminConsentUrl",
        "fixValues",
        "fixes",
      ]
    `);
  });

  it('@org/core/api: the HTTP contract is types only, no runtime', async () => {
    expect(Object.keys(await import('../src/api/index.js'))).toEqual([]);
  });
});
