import { describe, expect, it } from 'vitest';
import { errorFromTokenResponse, parseRetryAfter } from '../src/errors/index.js';
import { APP_ID, entraError, TENANT } from './fixtures/entra.js';

const ctx = { tenant: TENANT, clientId: APP_ID };

// The first sentences are the reference §1 texts users search for.
const cases = [
  [
    401,
    'invalid_client',
    7000215,
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${APP_ID}'.`,
    'TOKEN_INVALID_CLIENT_SECRET',
  ],
  [
    401,
    'invalid_client',
    7000222,
    `The provided client secret keys for app '${APP_ID}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    'TOKEN_CLIENT_SECRET_EXPIRED',
  ],
  [
    400,
    'unauthorized_client',
    700016,
    `Application with identifier '${APP_ID}' was not found in the directory '${TENANT}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    'TOKEN_APP_NOT_FOUND',
  ],
  [
    400,
    'invalid_request',
    90002,
    `Tenant '${TENANT}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    'TOKEN_TENANT_NOT_FOUND',
  ],
  [
    400,
    'invalid_scope',
    1002012,
    'The provided value for scope Mail.Send is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
    'TOKEN_INVALID_SCOPE',
  ],
  [
    400,
    'invalid_scope',
    70011,
    "The provided value for the input parameter 'scope' is not valid. The scope https://outlook.office365.com/.default openid is not valid.",
    'TOKEN_SCOPE_NOT_VALID',
  ],
  [
    401,
    'invalid_client',
    700027,
    "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '84E05C1D2A6B3F4E5D6C7B8A9F0E1D2C3B4A5968'...]",
    'TOKEN_CERTIFICATE_NOT_REGISTERED',
  ],
  [
    400,
    'invalid_client',
    700024,
    'Client assertion is not within its valid time range.',
    'TOKEN_ASSERTION_TIME_INVALID',
  ],
  [
    401,
    'invalid_client',
    7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    'TOKEN_MISSING_CREDENTIAL',
  ],
  [
    400,
    'invalid_resource',
    500011,
    `The resource principal named https://outlook.office365.com was not found in the tenant named ${TENANT}.`,
    'TOKEN_RESOURCE_NOT_FOUND',
  ],
  [
    400,
    'invalid_request',
    900144,
    "The request body must contain the following parameter: 'grant_type'.",
    'TOKEN_ENDPOINT_REJECTED',
  ],
  [
    400,
    'invalid_request',
    9001023,
    "The grant type isn't supported over the /common or /consumers endpoints.",
    'TOKEN_ENDPOINT_REJECTED',
  ],
] as const;

describe('errorFromTokenResponse: Entra AADSTS codes', () => {
  it.each(cases)('HTTP %i %s AADSTS%i → %s', (status, error, aadsts, description, code) => {
    const err = errorFromTokenResponse(entraError(status, error, aadsts, description), ctx);
    expect(err.code).toBe(code);
    expect(err.transient).toBe(false);
    expect(err.details).toMatchObject({
      status,
      error,
      aadsts,
      description: `AADSTS${aadsts}: ${description}`,
      traceId: 'aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
      correlationId: 'cccccccc-4444-5555-6666-dddddddddddd',
    });
    expect(err.message).toContain(`AADSTS${aadsts}: ${description.split('.')[0]}`);
    // Entra's trailer lines are dropped from the message.
    expect(err.message).not.toContain('Trace ID');
  });

  it('7000215 says to use the Value, not the Secret ID', () => {
    const err = errorFromTokenResponse(
      entraError(401, 'invalid_client', 7000215, 'Invalid client secret provided.'),
      ctx,
    );
    expect(err.hint).toContain("Use the secret's Value, not its Secret ID");
    expect(err.hint).toContain(APP_ID);
  });

  it('700016 names client id, tenant and the admin-consent URL', () => {
    const err = errorFromTokenResponse(
      entraError(400, 'unauthorized_client', 700016, 'Application ... not found'),
      ctx,
    );
    expect(err.hint).toContain(
      `https://login.microsoftonline.com/${TENANT}/adminconsent?client_id=${APP_ID}`,
    );
  });

  it('1002012 gives the exact scope to use', () => {
    const err = errorFromTokenResponse(
      entraError(400, 'invalid_scope', 1002012, 'The provided value for scope'),
      ctx,
    );
    expect(err.hint).toContain('https://outlook.office365.com/.default');
  });

  it('fills placeholders when no context is given', () => {
    const err = errorFromTokenResponse(entraError(400, 'unauthorized_client', 700016, 'x'));
    expect(err.hint).toContain('<CLIENT_ID>');
    expect(err.hint).toContain('<TENANT_ID>');
  });

  it('takes the AADSTS code from the description when error_codes is missing', () => {
    const err = errorFromTokenResponse({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: 'AADSTS7000222: The provided client secret keys are expired.',
      },
    });
    expect(err.code).toBe('TOKEN_CLIENT_SECRET_EXPIRED');
    expect(err.details.aadsts).toBe(7000222);
  });

  it('accepts the body as bytes', () => {
    const { body } = entraError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    const err = errorFromTokenResponse({ status: 401, body: new TextEncoder().encode(body) });
    expect(err.code).toBe('TOKEN_INVALID_CLIENT_SECRET');
  });

  it('never retries invalid_client (S9)', () => {
    const err = errorFromTokenResponse({
      status: 401,
      body: { error: 'invalid_client', error_description: 'bad' },
    });
    expect(err.code).toBe('TOKEN_INVALID_CLIENT');
    expect(err.transient).toBe(false);
  });
});

describe('errorFromTokenResponse: throttling, outages, bad responses', () => {
  it('429 is transient and carries Retry-After seconds', () => {
    const err = errorFromTokenResponse({ status: 429, body: '', headers: { 'Retry-After': '17' } });
    expect(err.code).toBe('TOKEN_THROTTLED');
    expect(err.transient).toBe(true);
    expect(err.details.retryAfterSeconds).toBe(17);
    expect(err.hint).toContain('17 s');
  });

  it('reads Retry-After from a Headers object and as an HTTP date', () => {
    const now = () => Date.parse('2026-11-26T10:00:00Z');
    const headers = new Headers({ 'retry-after': 'Thu, 26 Nov 2026 10:01:00 GMT' });
    const err = errorFromTokenResponse({ status: 429, body: '{}', headers }, { now });
    expect(err.details.retryAfterSeconds).toBe(60);
  });

  it.each([500, 502, 503, 504])('%i is TOKEN_SERVICE_UNAVAILABLE and transient', (status) => {
    const err = errorFromTokenResponse({
      status,
      body: '<html>oops</html>',
      headers: { 'retry-after': '5' },
    });
    expect(err.code).toBe('TOKEN_SERVICE_UNAVAILABLE');
    expect(err.transient).toBe(true);
    expect(err.details.retryAfterSeconds).toBe(5);
  });

  it('200 without access_token is TOKEN_RESPONSE_INVALID', () => {
    expect(errorFromTokenResponse({ status: 200, body: '{"token_type":"Bearer"}' }).code).toBe(
      'TOKEN_RESPONSE_INVALID',
    );
    expect(errorFromTokenResponse({ status: 200, body: 'not json' }).code).toBe('TOKEN_RESPONSE_INVALID');
  });

  it('4xx without JSON is TOKEN_RESPONSE_INVALID with a redacted snippet', () => {
    const err = errorFromTokenResponse({ status: 404, body: 'Not Found client_secret=leak' });
    expect(err.code).toBe('TOKEN_RESPONSE_INVALID');
    expect(JSON.stringify(err)).not.toContain('leak');
  });

  it('other OAuth2 errors map to TOKEN_ENDPOINT_REJECTED', () => {
    const err = errorFromTokenResponse({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(err.code).toBe('TOKEN_ENDPOINT_REJECTED');
  });

  it('redacts an echoed secret from the description', () => {
    const err = errorFromTokenResponse({
      status: 400,
      body: { error: 'invalid_request', error_description: 'bad request client_secret=abc~123 given' },
    });
    expect(JSON.stringify(err)).not.toContain('abc~123');
  });
});

describe('parseRetryAfter', () => {
  it('handles seconds, dates, garbage and past dates', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('Thu, 01 Jan 2020 00:00:00 GMT', () => Date.parse('2026-01-01'))).toBe(0);
  });
});
