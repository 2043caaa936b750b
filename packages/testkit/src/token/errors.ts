/**
 * Entra's error replies, as the v2 token endpoint sends them: one JSON shape for every failure, the
 * AADSTS code first in `error_description` (that first sentence is what users paste into a search
 * engine), then the trace/correlation/timestamp trailer.
 */
import { randomUUID } from 'node:crypto';

/** One failure of the token endpoint: HTTP status, OAuth `error`, AADSTS number and message. */
export interface EntraError {
  status: number;
  error: string;
  aadsts: number;
  /** The message without the `AADSTSnnn: ` prefix and without the trace trailer. */
  message: string;
}

/** The JSON body Entra sends with every error. */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

const CERT_DOCS =
  'Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .';

/** The catalogue of failures the fake token endpoint can produce (reference §1, plus assertion details). */
export const aadsts = {
  invalidSecret: (appId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  }),
  expiredSecret: (appId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000222,
    message: `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  }),
  appNotFound: (appId: string, tenant: string): EntraError => ({
    status: 400,
    error: 'unauthorized_client',
    aadsts: 700016,
    message: `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  tenantNotFound: (tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  multiTenantEndpoint: (segment: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 9001023,
    message: `The grant type is not supported over the /${segment} endpoint. Please use the tenant-specific endpoint (/{tenant-id} or /{verified-domain}) for the client credentials grant.`,
  }),
  scopeNeedsDefault: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    aadsts: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  scopeInvalid: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    aadsts: 70011,
    message: `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  }),
  /** A multi-tenant app without a service principal in the resource tenant (reference §8). */
  missingServicePrincipal: (appId: string, tenant: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000229,
    message: `The client application ${appId} is missing service principal in the tenant ${tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
  }),
  resourceNotFound: (resource: string, tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_resource',
    aadsts: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  keyNotFound: (thumbprintHex: string, appId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprintHex}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using the global cloud.]`,
  }),
  badSignature: (thumbprintHex: string, notBefore: Date, notAfter: Date): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumbprintHex}', Found key 'Start=${usDate(notBefore)}, End=${usDate(notAfter)}']`,
  }),
  keyExpired: (thumbprintHex: string, notBefore: Date, notAfter: Date): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700027,
    message: `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprintHex}', Found key 'Start=${usDate(notBefore)}, End=${usDate(notAfter)}']`,
  }),
  assertionTime: (now: Date, nbf: Date | undefined, exp: Date | undefined): EntraError => ({
    status: 400,
    error: 'invalid_client',
    aadsts: 700024,
    message: `Client assertion is not within its valid time range. Current time: ${netDate(now)}, assertion valid from ${nbf ? netDate(nbf) : 'n/a'}, expiry time of assertion ${exp ? netDate(exp) : 'n/a'}. ${CERT_DOCS}`,
  }),
  assertionIssuer: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700021,
    message: `Client assertion application identifier doesn't match 'client_id' parameter. ${CERT_DOCS}`,
  }),
  assertionAudience: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700023,
    message: `Client assertion audience claim does not match Realm issuer. ${CERT_DOCS}`,
  }),
  assertionMalformed: (detail: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 50027,
    message: `JWT token is invalid or malformed. ${detail}`,
  }),
  assertionReplayed: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    // Entra refuses a replayed client assertion; its exact code is not documented, so this reuses
    // the malformed-assertion code with a message that says what happened.
    aadsts: 50027,
    message: `JWT token is invalid or malformed. The client assertion's 'jti' has already been used; every client assertion must carry a new unique 'jti'. ${CERT_DOCS}`,
  }),
  assertionType: (type: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 50027,
    message: `JWT token is invalid or malformed. Unsupported client_assertion_type '${type}'; expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`,
  }),
  missingCredential: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000218,
    message: `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`,
  }),
  missingParameter: (name: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrant: (grant: string): EntraError => ({
    status: 400,
    error: 'unsupported_grant_type',
    aadsts: 70003,
    message: `The app requested an unsupported grant type '${grant}'. The testkit implements only 'client_credentials'.`,
  }),
  clientIdMismatch: (): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 900144,
    message: `The 'client_id' in the request body does not match the client id in the HTTP Basic authorization header.`,
  }),
  postOnly: (method: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 900561,
    message: `The endpoint only accepts POST requests. Received a ${method} request.`,
  }),
  unknownInstance: (): EntraError => ({
    status: 400,
    error: 'invalid_instance',
    aadsts: 50049,
    message: 'Unknown or invalid instance.',
  }),
  throttled: (): EntraError => ({
    status: 429,
    error: 'temporarily_unavailable',
    aadsts: 90055,
    message:
      'TenantThrottlingError - There are too many incoming requests. This exception is thrown for blocked tenants.',
  }),
  transient: (status: number): EntraError => ({
    status,
    error: 'temporarily_unavailable',
    aadsts: 90033,
    message: 'A transient error has occurred. Please try again.',
  }),
} as const;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2026-11-26 10:00:00Z`: the format of Entra's `timestamp` and `Timestamp:` trailer. */
export function entraTimestamp(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}Z`;
}

/** `2026-11-26T10:00:00.0000000Z`: .NET round-trip format used inside some AADSTS messages. */
function netDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}.0000000Z`;
}

/** `11/26/2026 10:00:00`: how 700027 prints a registered key's validity. */
function usDate(date: Date): string {
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** Builds the exact JSON body Entra returns for `e`. */
export function errorBody(
  e: EntraError,
  context: { now: Date; traceId?: string; correlationId?: string },
): EntraErrorBody {
  const traceId = context.traceId ?? randomUUID();
  const correlationId = context.correlationId ?? randomUUID();
  const timestamp = entraTimestamp(context.now);
  return {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [e.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${e.aadsts}`,
  };
}

/** Thrown inside the request pipeline to end it with an Entra error reply. */
export class EntraRequestError extends Error {
  override name = 'EntraRequestError';
  constructor(readonly entra: EntraError) {
    super(`AADSTS${entra.aadsts}: ${entra.message}`);
  }
}
