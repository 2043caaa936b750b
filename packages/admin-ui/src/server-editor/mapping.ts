/**
 * Mapping between the editor's form and core's config shape: an entry the server returns becomes a
 * form; a form becomes a config input (for core's validation) or the payload the server stores.
 */
import { cloudOfLoginHost, configPresets, parseEntraTokenEndpoint } from '@org/core/config';
import type { CertificateInfo, EmailServer } from '../api/client.js';
import { type CredentialKind, type EditorForm, emptyForm, type PresetId, presetById } from './form.js';

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

/** The preset an existing token endpoint belongs to, and its tenant. */
export function presetOfEndpoint(
  provider: string,
  tokenEndpoint: string,
): { preset: PresetId; tenant: string } {
  if (provider !== 'entra') return { preset: 'generic', tenant: '' };
  const parsed = parseEntraTokenEndpoint(tokenEndpoint);
  let host = '';
  try {
    host = new URL(tokenEndpoint).hostname;
  } catch {
    // An unparsable endpoint is shown as is; the schema reports it.
  }
  const cloud = cloudOfLoginHost(host) ?? 'global';
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
      permissionModel: c.auth.permissionModel ?? '',
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
    ...(server?.config ? { config: server.config } : {}),
  };
}

/** True when the server already holds a usable credential of this kind (so leaving it empty keeps it). */
export function credentialIsStored(stored: StoredSecrets, kind: CredentialKind): boolean {
  if (stored.credentialKind !== kind) return false;
  return kind === 'secret' ? stored.clientSecretSet : true;
}

const num = (v: number | ''): number | undefined => (v === '' || Number.isNaN(v) ? undefined : Number(v));
const opt = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim());

/** Which write-only values the server keeps because the form leaves them empty. */
export interface KeptSecrets {
  credential: boolean;
  password: boolean;
}

/** The dotted path of each write-only form value (core's secret paths, plus the public certificate). */
const KEEPABLE = {
  secret: 'auth.credential.secret',
  certificatePem: 'auth.credential.certificatePem',
  privateKeyPem: 'auth.credential.privateKeyPem',
  pfxBase64: 'auth.credential.pfxBase64',
  password: 'auth.password',
} as const;

/**
 * Maps the form to the payload the server stores. `keep` says which write-only values the server
 * keeps: an empty field it keeps is left out (the server then carries the stored one), an empty
 * field it does not keep is sent empty (the server names it as required).
 *
 * @returns the payload, and the dotted paths of the values left out for the server to keep (what
 *   core's `validateUpdate` counts as present).
 */
export function toConfigInput(
  form: EditorForm,
  keep: KeptSecrets,
): { input: Record<string, unknown>; kept: string[] } {
  const keptPaths: string[] = [];
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

  const kept = <K extends keyof typeof KEEPABLE>(
    field: K,
    value: string,
    isKept: boolean,
  ): Record<string, string> => {
    if (value !== '') return { [field]: value };
    if (!isKept) return { [field]: '' };
    keptPaths.push(KEEPABLE[field]);
    return {};
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
    if (form.permissionModel) auth.permissionModel = form.permissionModel;
    out.auth = auth;
  } else if (form.authType === 'password') {
    out.auth = { type: 'password', ...kept('password', form.password, keep.password) };
  } else {
    out.auth = { type: 'none' };
  }
  return { input: out, kept: keptPaths };
}
