/**
 * The editor's form state: its fields as the inputs hold them, the presets it offers, and what a
 * preset or tenant fills in. Rules about a valid entry come from core (`@org/core/config`).
 */
import {
  applyPreset,
  type ConfigPreset,
  configPresets,
  parseEntraTokenEndpoint,
  tenantProblem,
} from '@org/core/config';

export type PresetId = ConfigPreset['id'];
export type AuthType = 'oauth2' | 'password' | 'none';
export type CredentialKind = 'secret' | 'certificate' | 'pfx';
export type ClientAuthMethod = '' | 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

/** The editor's fields, as the inputs hold them (strings, unparsed numbers). */
export interface EditorForm {
  name: string;
  preset: PresetId;
  /** Directory (tenant) ID or a verified domain; only for the Microsoft presets. */
  tenant: string;
  host: string;
  port: number | '';
  security: 'starttls' | 'tls';
  user: string;
  from: string;
  authType: AuthType;
  tokenEndpoint: string;
  clientId: string;
  scope: string;
  clientAuthMethod: ClientAuthMethod;
  /** How Exchange authorizes the app (`auth.permissionModel`); '' = not stated (the classic model). */
  permissionModel: '' | 'mailbox' | 'rbac';
  credentialKind: CredentialKind;
  /** A new client secret; empty while the stored one is kept. Never filled from the server. */
  secret: string;
  certificatePem: string;
  privateKeyPem: string;
  pfxBase64: string;
  passphrase: string;
  /** Thumbprint as the admin copied it from Entra; checked against the certificate by the server. */
  thumbprint: string;
  /** A new SMTP password (legacy auth); empty while the stored one is kept. */
  password: string;
  tlsCa: string;
  maxConnections: number | '';
  messagesPerMinute: number | '';
}

/** The write-only fields: typed by the admin, never returned by the server, never kept in storage. */
export const WRITE_ONLY_FIELDS = [
  'secret',
  'certificatePem',
  'privateKeyPem',
  'pfxBase64',
  'passphrase',
  'password',
] as const satisfies readonly (keyof EditorForm)[];

export const presetById: Readonly<Record<PresetId, ConfigPreset>> = Object.fromEntries(
  configPresets.map((p) => [p.id, p]),
) as Record<PresetId, ConfigPreset>;

/** Presets offered in the editor; "Other OAuth2 provider" is core's generic preset. */
export const presetChoices: { id: PresetId; label: string }[] = configPresets.map((p) => ({
  id: p.id,
  label: p.id === 'generic' ? 'Other OAuth2 provider' : p.label,
}));

export const isMicrosoftPreset = (id: PresetId): boolean => presetById[id].provider === 'entra';

export function emptyForm(preset: PresetId = 'microsoft365'): EditorForm {
  const p = presetById[preset];
  return {
    name: '',
    preset,
    tenant: '',
    host: p.host ?? '',
    port: p.port,
    security: p.security,
    user: '',
    from: '',
    authType: 'oauth2',
    tokenEndpoint: '',
    clientId: '',
    scope: p.scope ?? '',
    clientAuthMethod: '',
    permissionModel: '',
    credentialKind: 'secret',
    secret: '',
    certificatePem: '',
    privateKeyPem: '',
    pfxBase64: '',
    passphrase: '',
    thumbprint: '',
    password: '',
    tlsCa: '',
    maxConnections: '',
    messagesPerMinute: '',
  };
}

/**
 * Fills the fields a preset owns. Microsoft presets set SMTP server, port, STARTTLS and scope, and the
 * token endpoint once the tenant is valid; "Other OAuth2 provider" clears only values a Microsoft
 * preset put there, so whatever the admin typed stays.
 */
export function applyPresetToForm(form: EditorForm, id: PresetId): void {
  const previous = presetById[form.preset];
  const next = presetById[id];
  form.preset = id;
  if (next.provider === 'entra') {
    form.host = next.host ?? form.host;
    form.port = next.port;
    form.security = next.security;
    form.scope = next.scope ?? form.scope;
    form.authType = 'oauth2';
    fillTokenEndpoint(form);
    return;
  }
  const filledByPrevious = (value: string, filled: string | undefined) =>
    filled !== undefined && value === filled;
  if (filledByPrevious(form.host, previous.host)) form.host = '';
  if (filledByPrevious(form.scope, previous.scope)) form.scope = '';
  if (previous.provider === 'entra' && parseEntraTokenEndpoint(form.tokenEndpoint)) form.tokenEndpoint = '';
  form.port = next.port;
  form.security = next.security;
}

/** Sets the token endpoint from the tenant (Microsoft presets only); a tenant core refuses changes nothing. */
export function fillTokenEndpoint(form: EditorForm): void {
  const preset = presetById[form.preset];
  if (preset.provider !== 'entra' || tenantProblem(form.tenant) !== undefined) return;
  form.tokenEndpoint =
    applyPreset(preset, { tenant: form.tenant.trim() }).auth.tokenEndpoint ?? form.tokenEndpoint;
}
