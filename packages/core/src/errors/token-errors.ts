import type { ErrorCode } from './catalog.js';
import { cloudOfScope } from '../config/cloud.js';
import { entraClouds } from '../config/microsoft.js';
import { cloudSummary, smtpScope, tokenEndpointUrl } from '../setup/builders.js';
import { adminConsentUrl, contextCloud, type ErrorContext, or, setupTarget } from './context.js';
import { redactSecrets } from './redact.js';
import { SmtpOAuthError } from './smtp-oauth-error.js';

/** What a token endpoint answered; `body` as text or already-parsed JSON. */
export interface TokenResponseInput {
  status: number;
  body: unknown;
  headers?: Headers | Record<string, string | string[] | undefined>;
}

interface OAuthErrorBody {
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
  trace_id?: unknown;
  correlation_id?: unknown;
}

function headerValue(headers: TokenResponseInput['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Parses Retry-After (delta-seconds or HTTP-date) into whole seconds, never negative. */
export function parseRetryAfter(value: string | undefined, now: () => number = Date.now): number | undefined {
  if (!value || typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now()) / 1000));
}

function parseBody(body: unknown): OAuthErrorBody | undefined {
  if (body && typeof body === 'object' && !(body instanceof Uint8Array)) return body as OAuthErrorBody;
  const text =
    body instanceof Uint8Array ? new TextDecoder().decode(body) : typeof body === 'string' ? body : '';
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as OAuthErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

function aadstsCode(body: OAuthErrorBody): number | undefined {
  if (Array.isArray(body.error_codes) && typeof body.error_codes[0] === 'number') return body.error_codes[0];
  if (typeof body.error_description === 'string') {
    const m = /^AADSTS(\d+)/.exec(body.error_description.trim());
    if (m) return Number(m[1]);
  }
  return undefined;
}

// Entra appends "\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"; the first line is what users search for.
function firstLine(description: string): string {
  return description.split(/\r?\n/)[0]?.trim() ?? '';
}

interface Mapping {
  code: ErrorCode;
  hint: (ctx: ErrorContext) => string;
}

// The SMTP scope of the entry's cloud: hints never name another cloud's.
const scopeOf = (c: ErrorContext) => smtpScope(setupTarget(c));
const sameScope = (a: string | undefined, b: string) =>
  a !== undefined &&
  a
    .trim()
    .replace(/\/+\.default$/, '/.default')
    .toLowerCase() === b.toLowerCase();

const aadsts: Record<number, Mapping> = {
  7000215: {
    code: 'TOKEN_INVALID_CLIENT_SECRET',
    hint: (c) =>
      `Use the secret's Value, not its Secret ID: in https://entra.microsoft.com open App registrations > ${or(c.clientId, '<CLIENT_ID>')} > Certificates & secrets; the Value is shown only right after creation, so create a new secret if you no longer have it.`,
  },
  7000222: {
    code: 'TOKEN_CLIENT_SECRET_EXPIRED',
    hint: (c) =>
      `The client secrets of app ${or(c.clientId, '<CLIENT_ID>')} have expired. Create a new one under App registrations > Certificates & secrets and configure its Value, or switch to a certificate credential (recommended).`,
  },
  700016: {
    code: 'TOKEN_APP_NOT_FOUND',
    hint: (c) =>
      `No application ${or(c.clientId, '<CLIENT_ID>')} in tenant ${or(c.tenant, '<TENANT_ID>')}. Copy the Application (client) ID and Directory (tenant) ID from the app registration's Overview page, and grant admin consent: ${adminConsentUrl(c)}`,
  },
  90002: {
    code: 'TOKEN_TENANT_NOT_FOUND',
    hint: (c) =>
      `Tenant ${or(c.tenant, '<TENANT_ID>')} does not exist in this cloud. Use the Directory (tenant) ID GUID or a verified domain (contoso.onmicrosoft.com) and the login host of the right cloud.`,
  },
  1002012: {
    code: 'TOKEN_INVALID_SCOPE',
    hint: (c) =>
      `Client credentials need a scope of the form <resource>/.default; for SMTP use ${scopeOf(c)}, not a permission name such as Mail.Send or SMTP.SendAsApp.`,
  },
  70011: {
    code: 'TOKEN_SCOPE_NOT_VALID',
    hint: (c) => `Set the scope to exactly ${scopeOf(c)}: one value, no extra spaces or permission names.`,
  },
  700027: {
    code: 'TOKEN_CERTIFICATE_NOT_REGISTERED',
    hint: (c) =>
      `Upload the public certificate to App registrations > ${or(c.clientId, '<CLIENT_ID>')} > Certificates & secrets > Certificates, and check the thumbprint listed there equals the configured certificate's SHA-1 thumbprint.`,
  },
  700024: {
    code: 'TOKEN_ASSERTION_TIME_INVALID',
    hint: () =>
      "Synchronise this machine's clock (NTP); the signed assertion's validity window does not cover Entra's time.",
  },
  7000218: {
    code: 'TOKEN_MISSING_CREDENTIAL',
    hint: () => 'Configure a client secret or a certificate; the token request carried neither.',
  },
  500011: {
    code: 'TOKEN_RESOURCE_NOT_FOUND',
    hint: (c) => {
      const scope = scopeOf(c);
      const label = entraClouds[contextCloud(c)].label;
      // Regression: a GCC High entry was told to "use" the global scope — or the scope it already had.
      return sameScope(c.scope, scope)
        ? `Exchange Online (${scope.replace('/.default', '')}) is not known in tenant ${or(c.tenant, '<TENANT_ID>')} of the ${label} cloud: check the tenant has Exchange Online licences in this cloud and that the token endpoint names the right tenant (${tokenEndpointUrl(setupTarget(c))}).`
        : `The scope's resource is not known in tenant ${or(c.tenant, '<TENANT_ID>')}. Use ${scope} (the ${label} cloud's SMTP scope) and check the tenant has Exchange Online.`;
    },
  },
  9001023: {
    code: 'TOKEN_ENDPOINT_REJECTED',
    hint: (c) =>
      `Client credentials cannot use the common, organizations or consumers endpoints: put your tenant id or domain in the token endpoint, e.g. ${tokenEndpointUrl({ cloud: contextCloud(c) })}.`,
  },
  7000229: {
    code: 'TOKEN_SERVICE_PRINCIPAL_MISSING',
    hint: (c) =>
      `App ${or(c.clientId, '<CLIENT_ID>')} has no service principal (Enterprise application) in tenant ${or(c.tenant, '<TENANT_ID>')}; since 31 March 2026 Entra issues app tokens only where one exists. A Global or Privileged Role Administrator of that tenant creates it by granting admin consent: ${adminConsentUrl(c)}`,
  },
  900144: {
    code: 'TOKEN_ENDPOINT_REJECTED',
    hint: () =>
      'The token request lacks a required parameter; check client ID, scope and the credential are configured.',
  },
};

/** The token endpoint's and the scope's clouds when they differ. */
function crossCloud(ctx: ErrorContext) {
  const token = ctx.tokenCloud;
  const scope = ctx.scope ? cloudOfScope(ctx.scope) : undefined;
  return token && scope && token !== scope ? { token, scope } : undefined;
}

/**
 * Maps a failed (or unusable) token endpoint response to a typed error. Pure: no I/O.
 *
 * Entra's AADSTS code is taken from `error_codes[0]`, else from the description prefix. 429 and 5xx
 * are transient and carry `details.retryAfterSeconds` when the server sent Retry-After;
 * `invalid_client` is never transient.
 */
export function errorFromTokenResponse(response: TokenResponseInput, ctx: ErrorContext = {}): SmtpOAuthError {
  // Mappers never throw: an unusable input maps to an unusable response.
  if (!response || typeof response !== 'object') response = { status: 0, body: '' };
  const { status } = response;
  const body = parseBody(response.body);
  const retryAfterSeconds = parseRetryAfter(headerValue(response.headers, 'retry-after'), ctx.now);
  const oauthError = typeof body?.error === 'string' ? body.error : undefined;
  const description =
    typeof body?.error_description === 'string'
      ? redactSecrets(firstLine(body.error_description))
      : undefined;
  const code = body ? aadstsCode(body) : undefined;
  const details: Record<string, unknown> = { status };
  if (oauthError) details.error = oauthError;
  if (code !== undefined) details.aadsts = code;
  if (description) details.description = description;
  if (typeof body?.trace_id === 'string') details.traceId = body.trace_id;
  if (typeof body?.correlation_id === 'string') details.correlationId = body.correlation_id;
  if (retryAfterSeconds !== undefined) details.retryAfterSeconds = retryAfterSeconds;
  const prefix = code !== undefined ? `AADSTS${code}: ` : '';
  const summary = description ? description.replace(/^AADSTS\d+:\s*/, '') : undefined;

  if (status === 429) {
    return new SmtpOAuthError('TOKEN_THROTTLED', `Token endpoint throttled the request (HTTP 429)`, {
      details,
      hint:
        retryAfterSeconds !== undefined
          ? `Wait ${retryAfterSeconds} s (Retry-After) and share one cached token provider across senders.`
          : undefined,
    });
  }
  if (status >= 500) {
    return new SmtpOAuthError(
      'TOKEN_SERVICE_UNAVAILABLE',
      `Token endpoint failed with HTTP ${status}${summary ? `: ${prefix}${summary}` : ''}`,
      { details },
    );
  }
  if (status >= 200 && status < 300) {
    const hasToken = body && typeof (body as { access_token?: unknown }).access_token === 'string';
    return new SmtpOAuthError(
      'TOKEN_RESPONSE_INVALID',
      hasToken
        ? `Token response has an unexpected shape (HTTP ${status})`
        : `Token response has no access_token (HTTP ${status})`,
      { details },
    );
  }
  if (!body) {
    const text = typeof response.body === 'string' ? redactSecrets(response.body.slice(0, 200)) : undefined;
    return new SmtpOAuthError(
      'TOKEN_RESPONSE_INVALID',
      `Token endpoint answered HTTP ${status} without a JSON body`,
      {
        details: { ...details, ...(text ? { body: text } : {}) },
      },
    );
  }
  const mismatch = crossCloud(ctx);
  if (mismatch && (code === 500011 || code === 90002 || code === 700016 || oauthError === 'invalid_resource'))
    return new SmtpOAuthError(
      'TOKEN_CLOUD_MISMATCH',
      `Token request failed (HTTP ${status}${oauthError ? ` ${oauthError}` : ''})${summary ? `: ${prefix}${summary}` : ''}`,
      {
        details: { ...details, tokenCloud: mismatch.token, scopeCloud: mismatch.scope },
        hint: `The token endpoint is in the ${entraClouds[mismatch.token].label} cloud but the scope ${or(ctx.scope, '')} belongs to the ${entraClouds[mismatch.scope].label} cloud; a tenant lives in one cloud. Use that cloud's values throughout — ${cloudSummary({ cloud: mismatch.scope, tenant: ctx.tenant })} — or ${cloudSummary({ cloud: mismatch.token, tenant: ctx.tenant })}.`,
        transient: false,
      },
    );
  const mapping = code !== undefined ? aadsts[code] : undefined;
  const message = `Token request failed (HTTP ${status}${oauthError ? ` ${oauthError}` : ''})${summary ? `: ${prefix}${summary}` : ''}`;
  if (mapping)
    return new SmtpOAuthError(mapping.code, message, { details, hint: mapping.hint(ctx), transient: false });
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    return new SmtpOAuthError('TOKEN_INVALID_CLIENT', message, { details, transient: false });
  }
  if (oauthError === 'invalid_scope') {
    return new SmtpOAuthError('TOKEN_SCOPE_NOT_VALID', message, { details });
  }
  return new SmtpOAuthError('TOKEN_ENDPOINT_REJECTED', message, { details });
}
