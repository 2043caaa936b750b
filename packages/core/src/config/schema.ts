import { z } from 'zod';
import type { ConfigIssueCode } from '../errors/smtp-oauth-error.js';
import { addressProblem } from '../message/address.js';
import { cloudIssues, entryCloud } from './cloud.js';
import {
  entraClouds,
  isEntraLoginHost,
  isGuid,
  parseEntraTokenEndpoint,
  tenantProblem,
} from './microsoft.js';
import { type PastedValueKind, pasteDamage } from './paste-damage.js';
import { normalizeThumbprint } from './thumbprint.js';

const NO_CTL = 'must not contain line breaks (CR/LF) or NUL characters';
const hasCtl = (s: string) => /[\r\n\0]/.test(s);

/** A single-line string: CR, LF and NUL are refused everywhere they could reach a protocol line. */
const line = () =>
  z.string().refine((s) => !hasCtl(s), { error: NO_CTL, params: { code: 'CONTROL_CHARACTERS' } });

/** Multi-line PEM text: line breaks allowed, NUL refused, the expected armour required. */
const pem = (label: RegExp, example: string) =>
  z
    .string()
    .refine((s) => !s.includes('\0'), { error: 'must not contain NUL characters' })
    .refine((s) => label.test(s), { error: `must be PEM text starting with ${example}` });

/** Refuses copy-paste damage (quotes, edge white space, invisible characters), naming it. */
const pasted = (kind: PastedValueKind) => (value: string, ctx: z.RefinementCtx) => {
  const problem = hasCtl(value) ? undefined : pasteDamage(value, kind);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { code: 'PASTE_DAMAGE' } });
};

const email = () =>
  line().superRefine((value, ctx) => {
    const problem = addressProblem(value);
    if (problem && !hasCtl(value))
      ctx.addIssue({
        code: 'custom',
        message: `must be an email address: ${problem}`,
        params: { code: value === '' ? 'REQUIRED' : 'INVALID_FORMAT' },
      });
  });

const HOSTNAME = /^(?=.{1,253}$)(?!-)[\p{L}\p{N}-]{1,63}(?<!-)(?:\.(?!-)[\p{L}\p{N}-]{1,63}(?<!-))*\.?$/u;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

const hostSchema = line()
  .min(1, { error: 'is required, e.g. smtp.office365.com' })
  .superRefine((value, ctx) => {
    if (hasCtl(value) || value.length === 0) return;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
      return ctx.addIssue({
        code: 'custom',
        message: 'must be a host name without scheme, e.g. smtp.office365.com',
      });
    if (/^[^:]+:\d+$/.test(value))
      return ctx.addIssue({ code: 'custom', message: 'must not include the port; set `port` separately' });
    const v6 = /^\[?([0-9a-f:.]+)\]?$/i.exec(value)?.[1];
    if (HOSTNAME.test(value) || IPV4.test(value) || (v6?.includes(':') && v6.split(':').length > 2)) return;
    ctx.addIssue({ code: 'custom', message: 'must be a host name or IP address, e.g. smtp.office365.com' });
  });

const tokenEndpointSchema = line().superRefine((value, ctx) => {
  if (hasCtl(value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ctx.addIssue({
      code: 'custom',
      message: 'must be an https URL, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token',
    });
  }
  if (url.protocol !== 'https:')
    ctx.addIssue({
      code: 'custom',
      message: 'must use https; client credentials must never travel over plain http',
    });
  if (url.username || url.password)
    ctx.addIssue({
      code: 'custom',
      message: 'must not contain user info (user:password@); configure the credential under auth.credential',
    });
  if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not contain a #fragment' });
});

const thumbprintSchema = line()
  .superRefine(pasted('thumbprint'))
  .refine((s) => /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(normalizeThumbprint(s)), {
    error:
      'must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint; colons and spaces are allowed',
  })
  .meta({ description: 'Thumbprint as shown in Entra; checked against the certificate.' });

const secretCredential = z.strictObject({
  kind: z.literal('secret'),
  secret: line().min(1, { error: 'is required: the client secret Value' }).superRefine(pasted('secret')),
});
const certificateCredential = z.strictObject({
  kind: z.literal('certificate'),
  certificatePem: pem(/-----BEGIN CERTIFICATE-----/, '-----BEGIN CERTIFICATE-----'),
  privateKeyPem: pem(/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/, '-----BEGIN PRIVATE KEY-----'),
  thumbprint: thumbprintSchema.optional(),
});
const pfxCredential = z.strictObject({
  kind: z.literal('pfx'),
  pfxBase64: z
    .string()
    .refine(
      (s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s.replace(/\s/g, '')) && s.replace(/\s/g, '').length % 4 === 0,
      {
        error:
          'must be the PFX/PKCS#12 file encoded as base64 (or a file:PATH reference when loading from a file)',
      },
    ),
  passphrase: line().optional(),
  thumbprint: thumbprintSchema.optional(),
});

const credentialSchema = z.discriminatedUnion(
  'kind',
  [secretCredential, certificateCredential, pfxCredential],
  {
    error: "must be 'secret', 'certificate' or 'pfx'",
  },
);

const oauth2Auth = z.strictObject({
  type: z.literal('oauth2'),
  provider: z.enum(['entra', 'generic'], { error: "must be 'entra' or 'generic'" }),
  tokenEndpoint: tokenEndpointSchema.meta({
    description: 'https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token for Entra',
  }),
  clientId: line()
    .min(1, { error: 'is required: the Application (client) ID' })
    .superRefine(pasted('identifier')),
  scope: line()
    .min(1, { error: 'is required, e.g. https://outlook.office365.com/.default' })
    .meta({ description: 'For Exchange Online: https://outlook.office365.com/.default' }),
  clientAuthMethod: z.enum(['client_secret_post', 'client_secret_basic', 'private_key_jwt']).optional(),
  credential: credentialSchema,
  permissionModel: z.enum(['mailbox', 'rbac'], { error: "must be 'mailbox' or 'rbac'" }).optional().meta({
    description:
      "How Exchange Online authorizes the app: 'mailbox' = SMTP.SendAsApp API permission with admin consent plus FullAccess per mailbox; 'rbac' = RBAC for Applications (a management scope and an 'Application SMTP.SendAsApp' role assignment; the token carries no roles)",
    default: 'mailbox',
  }),
});
/** An HTTP CONNECT proxy URL: http(s), a host, no credentials (they would be stored and shown). */
const proxyUrlSchema = line().superRefine((value, ctx) => {
  if (hasCtl(value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ctx.addIssue({
      code: 'custom',
      message: 'must be a proxy URL such as http://proxy.corp.example:3128',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return ctx.addIssue({
      code: 'custom',
      message: `must be an http:// or https:// proxy URL (HTTP CONNECT), not ${url.protocol}//`,
    });
  if (url.username || url.password)
    return ctx.addIssue({
      code: 'custom',
      message:
        'must not contain credentials (they would be stored and shown in clear); set HTTPS_PROXY in the environment of the CLI or server instead',
    });
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    ctx.addIssue({
      code: 'custom',
      message: 'must be scheme, host and port only, e.g. http://proxy.corp.example:3128',
    });
});

const passwordAuth = z.strictObject({
  type: z.literal('password'),
  password: line().min(1, { error: 'is required' }),
});
const noneAuth = z.strictObject({ type: z.literal('none') });

const authSchema = z.discriminatedUnion('type', [oauth2Auth, passwordAuth, noneAuth], {
  error: "must be 'oauth2', 'password' or 'none'",
});

const baseSchema = z.strictObject({
  name: line().min(1, { error: 'is required' }).max(100),
  host: hostSchema.meta({ description: 'SMTP server, e.g. smtp-mail.outlook.com or smtp.office365.com' }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .meta({ description: '587 (STARTTLS) or 465 (TLS)', default: 587 }),
  security: z.enum(['starttls', 'tls'], { error: "must be 'starttls' or 'tls'" }).optional().meta({
    description: "'starttls' on 587 (required, never opportunistic); 'tls' on 465",
    default: 'starttls',
  }),
  user: email().meta({ description: 'The mailbox that authenticates, e.g. noreply@contoso.com' }),
  from: email().optional().meta({ description: 'Default From address; defaults to user' }),
  auth: authSchema,
  tls: z
    .strictObject({ ca: pem(/-----BEGIN CERTIFICATE-----/, '-----BEGIN CERTIFICATE-----').optional() })
    .optional(),
  proxy: z
    .strictObject({
      url: proxyUrlSchema.meta({ description: 'e.g. http://proxy.corp.example:3128' }),
    })
    .optional()
    .meta({
      description:
        "HTTP CONNECT proxy for this entry's token endpoint (HTTPS). Overrides HTTPS_PROXY/NO_PROXY of the CLI or server; SMTP connects directly on the entry's port.",
    }),
  limits: z
    .strictObject({
      maxConnections: z.number().int().min(1).max(100).optional(),
      messagesPerMinute: z.number().positive().max(100_000).optional(),
    })
    .optional(),
});

type BaseInput = z.output<typeof baseSchema>;

function effectivePort(v: Pick<BaseInput, 'port' | 'security'>): number {
  return v.port ?? (v.security === 'tls' ? 465 : 587);
}
function effectiveSecurity(v: Pick<BaseInput, 'port' | 'security'>): 'starttls' | 'tls' {
  return v.security ?? (v.port === 465 ? 'tls' : 'starttls');
}

// The scope of the entry's cloud, read from its token endpoint and SMTP host.
const example = (endpoint: string, host: string): string =>
  entraClouds[entryCloud({ tokenEndpoint: endpoint, host }).cloud ?? 'global'].scope;

function crossCheck(v: BaseInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string, code: ConfigIssueCode) =>
    ctx.addIssue({ code: 'custom', path, message, params: { code } });
  const port = effectivePort(v);
  const security = effectiveSecurity(v);
  if (security === 'tls' && port === 587)
    issue(
      ['security'],
      "'tls' (implicit TLS) on port 587 will hang: port 587 speaks STARTTLS. Set security to 'starttls', or port to 465",
      'PORT_SECURITY_MISMATCH',
    );
  if (security === 'starttls' && port === 465)
    issue(
      ['security'],
      "port 465 expects implicit TLS. Set security to 'tls', or port to 587",
      'PORT_SECURITY_MISMATCH',
    );

  if (v.auth.type !== 'oauth2') return;
  const a = v.auth;
  let endpointHost: string | undefined;
  try {
    endpointHost = new URL(a.tokenEndpoint).hostname;
  } catch {
    endpointHost = undefined;
  }
  const entraLike = a.provider === 'entra' || (endpointHost !== undefined && isEntraLoginHost(endpointHost));

  if (entraLike && endpointHost !== undefined) {
    const parsed = parseEntraTokenEndpoint(a.tokenEndpoint);
    if (!parsed)
      issue(
        ['auth', 'tokenEndpoint'],
        'must be the v2.0 token endpoint https://<login host>/<tenant>/oauth2/v2.0/token, as shown under App registration > Endpoints',
        'TOKEN_ENDPOINT_NOT_ENTRA_V2',
      );
    else {
      const problem = tenantProblem(parsed.tenant);
      if (problem) issue(['auth', 'tokenEndpoint'], problem, 'TENANT_INVALID');
      else if (parsed.version === 'v1')
        issue(
          ['auth', 'tokenEndpoint'],
          `use the v2.0 endpoint …/${parsed.tenant}/oauth2/v2.0/token; the v1 endpoint does not accept a scope`,
          'TOKEN_ENDPOINT_NOT_ENTRA_V2',
        );
    }
  }
  if (
    a.provider === 'entra' &&
    !isGuid(a.clientId) &&
    !hasCtl(a.clientId) &&
    !pasteDamage(a.clientId, 'identifier')
  )
    issue(
      ['auth', 'clientId'],
      "must be the Application (client) ID, a GUID like 11111111-2222-3333-4444-555555555555, from the app registration's Overview page",
      'CLIENT_ID_NOT_GUID',
    );

  const scopeExample = example(a.tokenEndpoint, v.host);
  if (entraLike && !hasCtl(a.scope)) {
    const scope = a.scope.trim();
    if (/\s/.test(scope))
      issue(
        ['auth', 'scope'],
        `must be exactly one value for client credentials, e.g. ${scopeExample}`,
        'SCOPE_NOT_DEFAULT',
      );
    else if (!/^\S+\/\.default$/.test(scope))
      issue(
        ['auth', 'scope'],
        `must be \`<resource>/.default\` for client credentials, e.g. ${scopeExample}`,
        'SCOPE_NOT_DEFAULT',
      );
  }
  // A mix of national clouds: each disagreeing field named with its consistent value. (A Graph
  // scope is a warning of its own, GRAPH_SCOPE.)
  if (!hasCtl(a.scope) && !hasCtl(a.tokenEndpoint))
    for (const i of cloudIssues({ host: v.host, tokenEndpoint: a.tokenEndpoint, scope: a.scope }))
      issue(i.path, i.message, 'CLOUD_MISMATCH');
  const kind = a.credential.kind;
  if (a.provider === 'entra' && a.clientAuthMethod !== undefined)
    issue(
      ['auth', 'clientAuthMethod'],
      "applies to provider 'generic' only: for Entra, MSAL picks the method from the credential (secret or certificate); remove it",
      'CLIENT_AUTH_METHOD_MISMATCH',
    );
  if (a.clientAuthMethod === 'private_key_jwt' && kind === 'secret')
    issue(
      ['auth', 'clientAuthMethod'],
      "private_key_jwt needs a certificate or pfx credential; use 'client_secret_post' with a secret",
      'CLIENT_AUTH_METHOD_MISMATCH',
    );
  if (
    (a.clientAuthMethod === 'client_secret_post' || a.clientAuthMethod === 'client_secret_basic') &&
    kind !== 'secret'
  )
    issue(
      ['auth', 'clientAuthMethod'],
      `${a.clientAuthMethod} needs a secret credential; use 'private_key_jwt' with a certificate`,
      'CLIENT_AUTH_METHOD_MISMATCH',
    );
  // Any Entra token endpoint, whatever the provider label: Entra secret Values are never GUIDs, so
  // the doctor need not list "the secret's ID" as a cause of AADSTS7000215.
  if (entraLike && a.credential.kind === 'secret' && isGuid(a.credential.secret.trim()))
    issue(
      ['auth', 'credential', 'secret'],
      "looks like the secret's ID (a GUID); use the secret's Value, shown once when the secret is created",
      'SECRET_LOOKS_LIKE_ID',
    );
}

/**
 * Schema of one email-server entry. Parse with {@link parseConfig}; use directly for forms.
 * Output has `port` and `security` filled in (465 implies `tls`, otherwise `starttls` on 587).
 */
export const emailServerConfigSchema = baseSchema.superRefine(crossCheck).transform((v) => {
  const { port: _p, security: _s, ...rest } = v;
  return { ...rest, port: effectivePort(v), security: effectiveSecurity(v) };
});

/** A validated email-server entry. */
export type EmailServerConfig = z.output<typeof emailServerConfigSchema>;
/** What users write: an email-server entry before defaults are applied. */
export type EmailServerConfigInput = z.input<typeof emailServerConfigSchema>;
/** The `auth` part of an entry. */
export type AuthConfig = EmailServerConfig['auth'];
/** The OAuth2 variant of {@link AuthConfig}. */
export type OAuth2AuthConfig = Extract<AuthConfig, { type: 'oauth2' }>;
/** The credential of an OAuth2 entry. */
export type CredentialConfig = OAuth2AuthConfig['credential'];

/** Schema of a file holding several entries. */
export const emailServersFileSchema = z.strictObject({ servers: z.array(emailServerConfigSchema).min(1) });
