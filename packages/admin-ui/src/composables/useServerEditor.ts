/**
 * State and rules of the email-server editor. Every rule about what a valid entry is comes from core
 * (`@org/core/config`): this module only maps form fields to core's config shape and core's issues back
 * to form fields. Kept free of DOM access so it runs under vitest in node.
 */
import {
  applyPreset,
  type ConfigPreset,
  type ConfigWarning,
  configPresets,
  configWarnings,
  type EmailServerConfig,
  entraClouds,
  parseConfig,
  parseEntraTokenEndpoint,
  planSecretUpdate,
  tenantProblem,
} from '@org/core/config';
import { computed, reactive, ref } from 'vue';
import type { ApiIssue, CertificateInfo, EmailServer, EmailServerWrite } from '../api/client.js';

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

/** What the server holds for this entry's write-only fields (facts only, never values). */
export interface StoredSecrets {
  /** Kind of the stored OAuth2 credential, if any. */
  credentialKind: CredentialKind | undefined;
  clientSecretSet: boolean;
  /** Subject, thumbprints and expiry of a stored PEM certificate. */
  certificate: CertificateInfo | null;
  /** Thumbprint stored with a certificate/PFX credential (as the admin typed it). */
  thumbprint: string | undefined;
  passwordSet: boolean;
  /** The stored entry (secrets redacted): core compares destinations against it. */
  config?: EmailServer['config'];
}

export const presetById: Readonly<Record<PresetId, ConfigPreset>> = Object.fromEntries(
  configPresets.map((p) => [p.id, p]),
) as Record<PresetId, ConfigPreset>;

/** Presets offered in the editor; "Other OAuth2 provider" is core's generic preset. */
export const presetChoices: { id: PresetId; label: string }[] = configPresets.map((p) => ({
  id: p.id,
  label: p.id === 'generic' ? 'Other OAuth2 provider' : p.label,
}));

export const isMicrosoftPreset = (id: PresetId): boolean => presetById[id].provider === 'entra';

/** Field labels, by config path: used to phrase core's messages ("Client ID is required: …"). */
export const fieldLabels: Record<string, string> = {
  name: 'Name',
  tenant: 'Tenant',
  host: 'SMTP server',
  port: 'Port',
  security: 'Encryption',
  user: 'User (mailbox)',
  from: 'From address',
  'auth.type': 'Authentication',
  'auth.provider': 'Provider',
  'auth.tokenEndpoint': 'Token endpoint',
  'auth.clientId': 'Client ID',
  'auth.scope': 'Scope',
  'auth.clientAuthMethod': 'Client authentication',
  'auth.credential': 'Credential',
  'auth.credential.secret': 'Client secret',
  'auth.credential.certificatePem': 'Certificate',
  'auth.credential.privateKeyPem': 'Private key',
  'auth.credential.pfxBase64': 'PFX file',
  'auth.credential.passphrase': 'Passphrase',
  'auth.credential.thumbprint': 'Thumbprint',
  'auth.password': 'Password',
  'tls.ca': 'Trusted CA certificate',
  'limits.maxConnections': 'Max connections',
  'limits.messagesPerMinute': 'Messages per minute',
};

/**
 * Core's messages name no field ("is required: the Application (client) ID"); under a field they read
 * better with its label in front. Messages that are already sentences are kept.
 */
export function phraseIssue(path: string, message: string): string {
  const label = fieldLabels[path];
  // An empty field: "must be an email address: is empty" says less than "is required".
  if (label && /: is empty$/.test(message)) return `${label} is required`;
  if (
    label &&
    /^(is|are|must|looks|has|does|do|contains|uses?|should|cannot|expires|expired|unknown)\b/.test(message)
  )
    return `${label} ${message}`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

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

/** The preset an existing token endpoint belongs to, and its tenant. */
export function presetOfEndpoint(
  provider: string,
  tokenEndpoint: string,
): { preset: PresetId; tenant: string } {
  if (provider !== 'entra') return { preset: 'generic', tenant: '' };
  const parsed = parseEntraTokenEndpoint(tokenEndpoint);
  let host = '';
  try {
    host = new URL(tokenEndpoint).hostname.toLowerCase();
  } catch {
    // An unparsable endpoint is shown as is; the schema reports it.
  }
  const cloud = Object.values(entraClouds).find((c) => c.loginHost === host)?.cloud ?? 'global';
  const preset = configPresets.find((p) => p.cloud === cloud)?.id ?? 'microsoft365';
  return { preset, tenant: parsed?.tenant ?? '' };
}

/** The form for an existing entry. Write-only fields stay empty: the server never returns them. */
export function formFromServer(server: EmailServer): EditorForm {
  const c = server.config;
  const form = emptyForm('generic');
  Object.assign(form, {
    name: server.name,
    host: c.host,
    port: c.port,
    security: c.security,
    user: c.user,
    from: c.from ?? '',
    authType: c.auth.type,
    tlsCa: c.tls?.ca ?? '',
    maxConnections: c.limits?.maxConnections ?? '',
    messagesPerMinute: c.limits?.messagesPerMinute ?? '',
    scope: '',
  } satisfies Partial<EditorForm>);
  if (c.auth.type === 'oauth2') {
    const { preset, tenant } = presetOfEndpoint(c.auth.provider, c.auth.tokenEndpoint);
    Object.assign(form, {
      preset,
      tenant,
      tokenEndpoint: c.auth.tokenEndpoint,
      clientId: c.auth.clientId,
      scope: c.auth.scope,
      clientAuthMethod: c.auth.clientAuthMethod ?? '',
      credentialKind: c.auth.credential.kind,
      thumbprint: c.auth.credential.kind !== 'secret' ? (c.auth.credential.thumbprint ?? '') : '',
    } satisfies Partial<EditorForm>);
  }
  return form;
}

export function storedSecretsOf(server: EmailServer | undefined): StoredSecrets {
  const auth = server?.config.auth;
  const credential = auth?.type === 'oauth2' ? auth.credential : undefined;
  return {
    credentialKind: credential?.kind,
    clientSecretSet: server?.clientSecretSet ?? false,
    certificate: server?.certificate ?? null,
    thumbprint: credential && credential.kind !== 'secret' ? credential.thumbprint : undefined,
    passwordSet: auth?.type === 'password' && (server?.passwordSet ?? false),
    config: server?.config,
  };
}

/** True when the server already holds a usable credential of this kind (so leaving it empty keeps it). */
export function credentialIsStored(stored: StoredSecrets, kind: CredentialKind): boolean {
  if (stored.credentialKind !== kind) return false;
  return kind === 'secret' ? stored.clientSecretSet : true;
}

// Stand-ins for kept write-only values, used only to let core's schema check the rest of the entry.
// They never leave this module: the payload omits kept secrets.
const KEPT = {
  secret: 'stored-secret-kept',
  certificatePem: '-----BEGIN CERTIFICATE-----\nstored\n-----END CERTIFICATE-----',
  privateKeyPem: '-----BEGIN PRIVATE KEY-----\nstored\n-----END PRIVATE KEY-----',
  pfxBase64: 'c3RvcmVk',
  password: 'stored-password-kept',
} as const;

const num = (v: number | ''): number | undefined => (v === '' || Number.isNaN(v) ? undefined : Number(v));
const opt = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim());

/**
 * Maps the form to core's config input. `keep` says which write-only values the server keeps: for
 * validation they are replaced by stand-ins, for the payload they are left out.
 */
function toConfigInput(
  form: EditorForm,
  keep: { credential: boolean; password: boolean },
  mode: 'validate' | 'payload',
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: form.name.trim(),
    host: form.host.trim(),
    security: form.security,
    user: form.user.trim(),
  };
  const port = num(form.port);
  if (port !== undefined) out.port = port;
  const from = opt(form.from);
  if (from) out.from = from;
  if (opt(form.tlsCa)) out.tls = { ca: form.tlsCa.trim() };
  const limits: Record<string, number> = {};
  const maxConnections = num(form.maxConnections);
  const messagesPerMinute = num(form.messagesPerMinute);
  if (maxConnections !== undefined) limits.maxConnections = maxConnections;
  if (messagesPerMinute !== undefined) limits.messagesPerMinute = messagesPerMinute;
  if (Object.keys(limits).length > 0) out.limits = limits;

  const kept = <K extends keyof typeof KEPT>(
    field: K,
    value: string,
    isKept: boolean,
  ): Record<string, string> => {
    if (value !== '') return { [field]: value };
    if (!isKept) return { [field]: '' };
    return mode === 'validate' ? { [field]: KEPT[field] } : {};
  };

  if (form.authType === 'oauth2') {
    const k = form.credentialKind;
    let credential: Record<string, unknown>;
    if (k === 'secret') credential = { kind: k, ...kept('secret', form.secret.trim(), keep.credential) };
    else if (k === 'certificate') {
      // A certificate and its key travel together: replacing one means uploading both.
      const both = form.certificatePem !== '' || form.privateKeyPem !== '';
      credential = {
        kind: k,
        ...kept('certificatePem', form.certificatePem, keep.credential && !both),
        ...kept('privateKeyPem', form.privateKeyPem, keep.credential && !both),
      };
    } else {
      credential = { kind: k, ...kept('pfxBase64', form.pfxBase64, keep.credential) };
      if (form.passphrase !== '') credential.passphrase = form.passphrase;
    }
    if (k !== 'secret' && opt(form.thumbprint)) credential.thumbprint = form.thumbprint.trim();
    const auth: Record<string, unknown> = {
      type: 'oauth2',
      provider: presetById[form.preset].provider,
      tokenEndpoint: form.tokenEndpoint.trim(),
      clientId: form.clientId.trim(),
      scope: form.scope.trim(),
      credential,
    };
    if (form.clientAuthMethod) auth.clientAuthMethod = form.clientAuthMethod;
    out.auth = auth;
  } else if (form.authType === 'password') {
    out.auth = { type: 'password', ...kept('password', form.password, keep.password) };
  } else {
    out.auth = { type: 'none' };
  }
  return out;
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

/** Validation of a form with core's schema. */
export function validateForm(form: EditorForm, stored: StoredSecrets) {
  let keep = {
    credential: credentialIsStored(stored, form.credentialKind),
    password: stored.passwordSet,
  };
  // S3: a stored secret never follows a changed destination; core says which secrets must be entered again.
  const required = stored.config
    ? planSecretUpdate(toConfigInput(form, keep, 'payload'), stored.config, [
        ...(stored.passwordSet ? ['auth.password'] : []),
        ...(stored.clientSecretSet ? ['auth.credential.secret'] : []),
        ...(stored.credentialKind === 'certificate' ? ['auth.credential.privateKeyPem'] : []),
        ...(stored.credentialKind === 'pfx' ? ['auth.credential.pfxBase64'] : []),
      ]).required
    : [];
  if (required.length > 0) keep = { credential: false, password: false };
  const input = toConfigInput(form, keep, 'validate');
  const result = parseConfig(input);
  const issues: ApiIssue[] = result.ok ? [] : [...result.issues];
  if (required.length > 0) {
    const paths = required.map((r) => r.path as string);
    issues.splice(0, issues.length, ...required, ...issues.filter((i) => !paths.includes(i.path)));
  }
  if (form.authType === 'oauth2' && isMicrosoftPreset(form.preset)) {
    const problem =
      form.tenant.trim() === ''
        ? 'is required: the Directory (tenant) ID or a domain such as contoso.onmicrosoft.com'
        : tenantProblem(form.tenant);
    if (problem) issues.unshift({ path: 'tenant', message: problem.replace(/^tenant /, '') });
  }
  let warnings: ConfigWarning[] = result.ok ? result.warnings : [];
  // Warnings about the auth type (e.g. password on a Microsoft host) are useful before the rest is valid.
  if (!result.ok && typeof input.host === 'string' && input.host !== '') {
    try {
      warnings = configWarnings(input as unknown as EmailServerConfig).filter((w) => w.path === 'auth.type');
    } catch {
      warnings = [];
    }
  }
  return { issues, warnings, payload: toConfigInput(form, keep, 'payload'), keep };
}

/**
 * The editor: reactive form, core-driven validation, preset filling, write-only credentials.
 *
 * @param existing the stored entry when editing; its secrets are never in the form.
 */
export function useServerEditor(existing?: EmailServer) {
  const form = reactive<EditorForm>(existing ? formFromServer(existing) : emptyForm());
  const stored = ref<StoredSecrets>(storedSecretsOf(existing));
  const touched = reactive(new Set<string>());
  const submitted = ref(false);
  const serverIssues = ref<ApiIssue[]>([]);
  /** Replace mode for a stored credential: shows the inputs for a new one. */
  const replacing = ref(false);

  const validation = computed(() => validateForm(form, stored.value));
  const issues = computed(() => [...validation.value.issues, ...serverIssues.value]);
  const valid = computed(() => validation.value.issues.length === 0);
  // A destination change makes the stored credential unusable, so its inputs show again.
  const credentialStored = computed(
    () => credentialIsStored(stored.value, form.credentialKind) && validation.value.keep.credential,
  );

  /** The message for a field, once it was left or a save was tried; `path` is core's field path. */
  function errorFor(path: string): string | undefined {
    if (!submitted.value && !touched.has(path)) return undefined;
    const found = issues.value.find((i) => i.path === path);
    return found && phraseIssue(found.path, found.message);
  }

  /** Issues no visible field shows (e.g. a path from the server the form does not know). */
  function unplacedIssues(visible: readonly string[]): ApiIssue[] {
    return issues.value.filter((i) => !visible.includes(i.path));
  }

  function touch(path: string): void {
    touched.add(path);
    serverIssues.value = serverIssues.value.filter((i) => i.path !== path);
  }

  function selectPreset(id: PresetId): void {
    applyPresetToForm(form, id);
  }

  function setTenant(value: string): void {
    form.tenant = value;
    fillTokenEndpoint(form);
  }

  function startReplace(): void {
    replacing.value = true;
  }

  function cancelReplace(): void {
    replacing.value = false;
    Object.assign(form, { secret: '', certificatePem: '', privateKeyPem: '', pfxBase64: '', passphrase: '' });
  }

  /** Marks every field as visited; returns the payload when core accepts the entry. */
  function prepareSubmit(): EmailServerWrite | undefined {
    submitted.value = true;
    serverIssues.value = [];
    return valid.value ? validation.value.payload : undefined;
  }

  /** Shows the server's field issues (e.g. a thumbprint that does not match the uploaded certificate). */
  function setServerIssues(list: ApiIssue[]): void {
    serverIssues.value = list;
    submitted.value = true;
  }

  /** After a save: the server's view becomes the stored state, typed secrets are dropped. */
  function saved(server: EmailServer): void {
    stored.value = storedSecretsOf(server);
    replacing.value = false;
    Object.assign(form, {
      secret: '',
      certificatePem: '',
      privateKeyPem: '',
      pfxBase64: '',
      passphrase: '',
      password: '',
    });
  }

  return {
    form,
    stored,
    replacing,
    submitted,
    issues,
    valid,
    warnings: computed(() => validation.value.warnings),
    credentialStored,
    errorFor,
    unplacedIssues,
    touch,
    selectPreset,
    setTenant,
    startReplace,
    cancelReplace,
    prepareSubmit,
    setServerIssues,
    saved,
  };
}

export type ServerEditor = ReturnType<typeof useServerEditor>;

// ── Files ────────────────────────────────────────────────────────────────────────────────────

/** Reads a PEM file; refuses binary files early with a readable reason. */
export async function readPemFile(file: Blob): Promise<string> {
  const text = await file.text();
  if (!text.includes('-----BEGIN ')) throw new Error('This file is not PEM text (it has no -----BEGIN line)');
  return text;
}

/** Reads a PFX/PKCS#12 file as base64, the form core's schema expects. */
export async function readPfxFile(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A PEM file holding both parts (e.g. `openssl req -x509 … -out both.pem`) split into certificate and key. */
export function splitPemBundle(text: string): { certificatePem?: string; privateKeyPem?: string } {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  const key =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      text,
    )?.[0];
  return { ...(cert ? { certificatePem: `${cert}\n` } : {}), ...(key ? { privateKeyPem: `${key}\n` } : {}) };
}

/** Normalises a thumbprint for comparison (Entra shows upper-case hex; admins paste with colons). */
export const normaliseThumbprint = (t: string): string => t.replace(/[\s:]/g, '').toUpperCase();

/**
 * SHA-1 and SHA-256 thumbprints of the first certificate in a PEM text (the hashes of its DER bytes,
 * upper-case hex as Entra shows them), so the admin can compare with the portal before saving. The
 * server computes them again and checks the key; this is a preview, not the check.
 */
export async function pemThumbprints(pem: string): Promise<{ sha1: string; sha256: string } | undefined> {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body || !globalThis.crypto?.subtle) return undefined;
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = Uint8Array.from(atob(body.replace(/\s/g, '')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  const hex = async (algorithm: 'SHA-1' | 'SHA-256') =>
    [...new Uint8Array(await crypto.subtle.digest(algorithm, der))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase();
  return { sha1: await hex('SHA-1'), sha256: await hex('SHA-256') };
}
