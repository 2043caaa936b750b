import { describe, expect, it } from 'vitest';

// Pins the public API: a change to either list shows up in review. Sorted so additions elsewhere
// in the barrel do not reorder the snapshot.
describe('public exports', () => {
  it('@org/core', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "ConfigError",
        "DEFAULT_MAX_MESSAGE_BYTES",
        "DEFAULT_MAX_RECIPIENTS",
        "EXCHANGE_MAX_CONNECTIONS",
        "EXCHANGE_MESSAGES_PER_MINUTE",
        "SMTP_SEND_AS_APP_ROLE",
        "SmtpOAuthError",
        "addressProblem",
        "applyPreset",
        "catalogEntry",
        "cloudIssues",
        "cloudOfScope",
        "cloudOfSmtpHost",
        "cloudOfTokenEndpoint",
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
        "entryCloud",
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
        "microsoft365Hve",
        "migrateToOAuth2",
        "normalizeThumbprint",
        "parseConfig",
        "parseEntraTokenEndpoint",
        "parseRetryAfter",
        "redactConfig",
        "redactConfigWithCertificate",
        "redactSecrets",
        "sendTest",
        "splitAddressList",
        "tenantProblem",
        "validateMessage",
      ]
    `);
  });

  it('@org/core/config (browser-safe)', async () => {
    expect(Object.keys(await import('../src/config/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "ConfigError",
        "applyPreset",
        "cloudIssues",
        "cloudOfLoginHost",
        "cloudOfScope",
        "cloudOfSmtpHost",
        "cloudOfTokenEndpoint",
        "configJsonSchema",
        "configPresets",
        "configWarnings",
        "defineConfig",
        "emailServerConfigSchema",
        "emailServersFileSchema",
        "entraClouds",
        "entraTokenEndpoint",
        "entryCloud",
        "formatPath",
        "generic",
        "isEntraLoginHost",
        "isGraphScope",
        "isGuid",
        "isMicrosoftHost",
        "isValidTenant",
        "issuesFromZod",
        "microsoft365",
        "microsoft365China",
        "microsoft365Gcc",
        "microsoft365Hve",
        "migrateToOAuth2",
        "normalizeThumbprint",
        "parseConfig",
        "parseEntraTokenEndpoint",
        "redactConfig",
        "tenantProblem",
      ]
    `);
  });

  it('@org/core/setup (browser-safe)', async () => {
    expect(Object.keys(await import('../src/setup/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "APPLICATION_SMTP_SEND_AS_APP_ROLE",
        "RBAC_DOC",
        "adminConsentUrl",
        "cloudSummary",
        "consentUrl",
        "fixValues",
        "fixes",
        "permissionModelComparison",
        "powershell",
        "rbacCommands",
        "rbacFixes",
        "smtpScope",
        "smtpScopesOfAllClouds",
        "tokenEndpointUrl",
      ]
    `);
  });

  it('@org/core/api: the HTTP contract is types only, no runtime', async () => {
    expect(Object.keys(await import('../src/api/index.js'))).toEqual([]);
  });
});
