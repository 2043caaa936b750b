import { ConfigError } from '../errors/smtp-oauth-error.js';
import { type EntraCloud, entraClouds, entraTokenEndpoint } from './microsoft.js';
import { expectObject } from '../internal/guard.js';

/** Known starting points for an entry. */
export interface ConfigPreset {
  id: 'microsoft365' | 'microsoft365Gcc' | 'microsoft365China' | 'microsoft365Hve' | 'generic';
  label: string;
  /** What the preset is for and its limits, for pickers and docs (absent when the label says it all). */
  note?: string;
  /** Microsoft cloud, absent for generic. */
  cloud?: EntraCloud;
  /** Default SMTP host, absent for generic. */
  host?: string;
  /** Other documented hosts for the same service. */
  alternativeHosts: readonly string[];
  port: number;
  security: 'starttls' | 'tls';
  provider: 'entra' | 'generic';
  scope?: string;
  /** Token endpoint with a `{tenant}` placeholder, absent for generic. */
  tokenEndpointTemplate?: string;
}

function microsoftPreset(
  id: ConfigPreset['id'],
  label: string,
  cloud: EntraCloud,
  alt: string[],
): ConfigPreset {
  const info = entraClouds[cloud];
  return Object.freeze({
    id,
    label,
    cloud,
    host: info.smtpHost,
    alternativeHosts: Object.freeze(alt),
    port: 587,
    security: 'starttls',
    provider: 'entra',
    scope: info.scope,
    tokenEndpointTemplate: `https://${info.loginHost}/{tenant}/oauth2/v2.0/token`,
  });
}

/**
 * Microsoft 365 (global cloud), with the admin guide's values: smtp-mail.outlook.com:587 STARTTLS,
 * scope https://outlook.office365.com/.default. `smtp.office365.com` is the documented alternative.
 */
export const microsoft365: ConfigPreset = microsoftPreset('microsoft365', 'Microsoft 365', 'global', [
  'smtp.office365.com',
]);
/** Microsoft 365 US Government (GCC High). */
export const microsoft365Gcc: ConfigPreset = microsoftPreset(
  'microsoft365Gcc',
  'Microsoft 365 US Government (GCC High)',
  'usGovernment',
  [],
);
/** Microsoft 365 operated by 21Vianet (China). */
export const microsoft365China: ConfigPreset = microsoftPreset(
  'microsoft365China',
  'Microsoft 365 China (21Vianet)',
  'china',
  [],
);
/**
 * Exchange Online High Volume Email (HVE): `smtp-hve.office365.com:587` STARTTLS, same token endpoint
 * and scope as Microsoft 365. For bulk mail to **internal** recipients only (since June 2025); up to 100
 * HVE accounts per tenant; generally available since end of March 2026. HVE refuses a token that expires
 * within about 10 minutes (`501 5.5.127 … Token will expire soon`) and a user it does not know
 * (`501 5.5.124 … User address provided is not valid`). Sources: petri.com (MC1243552),
 * tarickb/sasl-xoauth2 README and issue #110.
 */
export const microsoft365Hve: ConfigPreset = Object.freeze({
  ...microsoftPreset(
    'microsoft365Hve',
    'Microsoft 365 High Volume Email (internal recipients only)',
    'global',
    [],
  ),
  host: 'smtp-hve.office365.com',
  note: 'High Volume Email: bulk mail to recipients inside your own tenant only (since June 2025); the sender is an HVE account (up to 100 per tenant), not a mailbox.',
});
/** Any other SMTP server with an OAuth2 client-credentials token endpoint. */
export const generic: ConfigPreset = Object.freeze({
  id: 'generic',
  label: 'Generic OAuth2',
  alternativeHosts: Object.freeze([]),
  port: 587,
  security: 'starttls',
  provider: 'generic',
});

/** All presets, in display order. */
export const configPresets: readonly ConfigPreset[] = Object.freeze([
  microsoft365,
  microsoft365Gcc,
  microsoft365China,
  microsoft365Hve,
  generic,
]);

/** The fields a preset fills in; the caller adds name, user, clientId and the credential. */
export interface PresetValues {
  host?: string;
  port: number;
  security: 'starttls' | 'tls';
  auth: { type: 'oauth2'; provider: 'entra' | 'generic'; tokenEndpoint?: string; scope?: string };
}

/**
 * The values a preset contributes to a new entry.
 *
 * @example
 * const preset = applyPreset(microsoft365, { tenant: 'contoso.onmicrosoft.com' });
 * const entry = defineConfig({
 *   ...preset,
 *   host: preset.host ?? 'smtp.office365.com',
 *   name: 'main',
 *   user: 'noreply@contoso.com',
 *   auth: { ...preset.auth, tokenEndpoint: preset.auth.tokenEndpoint ?? '', scope: preset.auth.scope ?? '', clientId, credential },
 * });
 * @throws ConfigError (path `tenant`) when a Microsoft preset gets no or an invalid tenant.
 */
export function applyPreset(preset: ConfigPreset, options: { tenant?: string } = {}): PresetValues {
  expectObject(preset, 'preset');
  expectObject(options, 'options');
  const values: PresetValues = {
    port: preset.port,
    security: preset.security,
    auth: { type: 'oauth2', provider: preset.provider },
  };
  if (preset.host) values.host = preset.host;
  if (preset.scope) values.auth.scope = preset.scope;
  if (preset.cloud) {
    if (!options.tenant)
      throw new ConfigError([
        {
          path: 'tenant',
          message: 'is required: the Directory (tenant) ID or a domain such as contoso.onmicrosoft.com',
        },
      ]);
    values.auth.tokenEndpoint = entraTokenEndpoint(preset.cloud, options.tenant);
  }
  return values;
}
