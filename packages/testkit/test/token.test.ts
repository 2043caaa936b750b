import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/clock.js';
import {
  call,
  EXCHANGE_SCOPE,
  expectEntraError,
  getToken,
  secretRequest,
  startTokenFixture,
  type TokenFixture,
  tokenRequest,
} from './fixtures/token.js';

let fx: TokenFixture;
beforeAll(async () => {
  fx = await startTokenFixture();
});
afterAll(() => fx.close());

describe('token endpoint: success', () => {
  it('issues a token for a secret in the body, with Entra headers and the exact body shape', async () => {
    const r = await secretRequest(fx);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store, no-cache');
    expect(r.headers.pragma).toBe('no-cache');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(r.json)).toEqual(['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
  });

  it('signs a v1.0 app-only token with exactly the claims Exchange expects', async () => {
    const token = await getToken(fx);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({
      typ: 'JWT',
      alg: 'RS256',
      kid: fx.server.keys.current.kid,
      x5t: fx.server.keys.current.kid,
    });
    const { payload } = await jwtVerify(token, fx.server.keys.getKey, {
      currentDate: new Date(fx.clock.now()),
    });
    const app = fx.directory.findApp(fx.clientId)!;
    expect(Object.keys(payload).sort()).toEqual(
      [
        'aud',
        'iss',
        'iat',
        'nbf',
        'exp',
        'appid',
        'appidacr',
        'idtyp',
        'oid',
        'roles',
        'sub',
        'tid',
        'uti',
        'ver',
      ].sort(),
    );
    expect(payload).toMatchObject({
      aud: 'https://outlook.office365.com',
      iss: `https://sts.windows.net/${fx.tenantId}/`,
      appid: fx.clientId,
      appidacr: '1',
      idtyp: 'app',
      oid: app.servicePrincipalObjectId,
      sub: app.servicePrincipalObjectId,
      tid: fx.tenantId,
      roles: ['SMTP.SendAsApp'],
      ver: '1.0',
    });
    expect(payload.oid).not.toBe(app.appObjectId);
    expect(payload.exp! - payload.iat!).toBe(3599);
    expect(payload.upn).toBeUndefined();
  });

  it('accepts HTTP Basic client authentication with form-url-encoded id and secret', async () => {
    const secret = fx.directory.addSecret(fx.clientId, { value: 'a:b+c%d~e/f' });
    const basic = Buffer.from(
      `${encodeURIComponent(fx.clientId)}:${encodeURIComponent(secret.value)}`,
    ).toString('base64');
    const r = await tokenRequest(
      fx,
      { grant_type: 'client_credentials', scope: EXCHANGE_SCOPE },
      { headers: { Authorization: `Basic ${basic}` } },
    );
    expect(r.status).toBe(200);
    expect(fx.server.requests().at(-1)?.authMethod).toBe('secret-basic');
  });

  it('accepts the tenant by verified domain and issues the GUID as tid', async () => {
    const r = await tokenRequest(
      fx,
      {
        grant_type: 'client_credentials',
        client_id: fx.clientId,
        client_secret: fx.secret.value,
        scope: EXCHANGE_SCOPE,
      },
      { tenant: fx.domain.toUpperCase() },
    );
    expect(r.status).toBe(200);
    expect(decodeJwt(r.json.access_token).tid).toBe(fx.tenantId);
  });

  it('keeps a trailing slash of the resource in aud (https://outlook.office365.com//.default)', async () => {
    const token = await getToken(fx, 'https://outlook.office365.com//.default');
    expect(decodeJwt(token).aud).toBe('https://outlook.office365.com/');
  });

  it('issues national-cloud audiences (GCC High, 21Vianet) with the Exchange role', async () => {
    for (const resource of ['https://outlook.office365.us', 'https://partner.outlook.cn']) {
      const claims = decodeJwt(await getToken(fx, `${resource}/.default`));
      expect(claims.aud).toBe(resource);
      expect(claims.roles).toEqual(['SMTP.SendAsApp']);
    }
  });

  it('a Graph scope gives a Graph audience and no Exchange role', async () => {
    const claims = decodeJwt(await getToken(fx, 'https://graph.microsoft.com/.default'));
    expect(claims.aud).toBe('https://graph.microsoft.com');
    expect(claims.roles).toBeUndefined();
  });

  it('echoes a client-request-id GUID as the correlation id', async () => {
    const id = '0b7f2ab2-6c8e-4a5e-9d2f-4e8f0d4c1a11';
    const r = await tokenRequest(
      fx,
      {
        grant_type: 'client_credentials',
        client_id: fx.clientId,
        client_secret: 'wrong',
        scope: EXCHANGE_SCOPE,
      },
      { headers: { 'client-request-id': id } },
    );
    expect(r.json.correlation_id).toBe(id);
    expect(r.headers['client-request-id']).toBe(id);
  });
});

describe('token endpoint: roles only after admin consent', () => {
  it('has no roles claim at all without consent, roles after consent, none after revocation', async () => {
    const app = fx.directory.registerApp(fx.tenantId);
    const secret = fx.directory.addSecret(app.clientId);
    fx.directory.addPermission(app.clientId); // added, not consented
    const req = () =>
      tokenRequest(fx, {
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: secret.value,
        scope: EXCHANGE_SCOPE,
      }).then((r) => decodeJwt(r.json.access_token));
    expect('roles' in (await req())).toBe(false);
    fx.directory.grantAdminConsent(app.clientId);
    expect((await req()).roles).toEqual(['SMTP.SendAsApp']);
    fx.directory.revokeAdminConsent(app.clientId);
    expect('roles' in (await req())).toBe(false);
  });
});

describe('token endpoint: TTL and clock', () => {
  it('uses tokenTtlSeconds and the shared clock for iat/nbf/exp', async () => {
    const start = Date.UTC(2026, 10, 26, 10, 0, 0);
    const clock = createClock({ frozen: true, start });
    const local = await startTokenFixture({ clock, tokenTtlSeconds: 600 });
    try {
      const r = await secretRequest(local);
      expect(r.json.expires_in).toBe(600);
      expect(r.json.ext_expires_in).toBe(600);
      const claims = decodeJwt(r.json.access_token);
      expect(claims.iat).toBe(start / 1000);
      expect(claims.nbf).toBe(start / 1000);
      expect(claims.exp).toBe(start / 1000 + 600);
      const bad = await secretRequest(local, { client_secret: 'nope' });
      expect(bad.json.timestamp).toBe('2026-11-26 10:00:00Z');
    } finally {
      await local.close();
    }
  });

  it('a secret that expires as the clock advances is refused with AADSTS7000222', async () => {
    const secret = fx.directory.addSecret(fx.clientId, { expiresAt: fx.clock.now() + 3_600_000 });
    expect((await secretRequest(fx, { client_secret: secret.value })).status).toBe(200);
    fx.clock.advance(2 * 3_600_000);
    try {
      const r = await secretRequest(fx, { client_secret: secret.value });
      const d = expectEntraError(r, 401, 'invalid_client', 7000222);
      expect(d).toBe(
        `AADSTS7000222: The provided client secret keys for app '${fx.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    } finally {
      fx.clock.advance(-2 * 3_600_000);
    }
  });
});

describe('token endpoint: every error row of reference §1', () => {
  it('7000215: wrong secret', async () => {
    const d = expectEntraError(
      await secretRequest(fx, { client_secret: 'not-it' }),
      401,
      'invalid_client',
      7000215,
    );
    expect(d).toBe(
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${fx.clientId}'.`,
    );
  });

  it("7000215: the secret's ID sent instead of its value (the common mistake)", async () => {
    expectEntraError(
      await secretRequest(fx, { client_secret: fx.secret.id }),
      401,
      'invalid_client',
      7000215,
    );
  });

  it('7000215: wrong secret over HTTP Basic', async () => {
    const basic = Buffer.from(`${fx.clientId}:wrong`).toString('base64');
    const r = await tokenRequest(
      fx,
      { grant_type: 'client_credentials', scope: EXCHANGE_SCOPE },
      { headers: { Authorization: `Basic ${basic}` } },
    );
    expectEntraError(r, 401, 'invalid_client', 7000215);
  });

  it('700016: unknown app, and an app registered in another tenant', async () => {
    const unknown = '11111111-2222-3333-4444-555555555555';
    const d = expectEntraError(
      await secretRequest(fx, { client_id: unknown }),
      400,
      'unauthorized_client',
      700016,
    );
    expect(d).toContain(
      `Application with identifier '${unknown}' was not found in the directory '${fx.tenantId}'.`,
    );
    const other = fx.directory.addTenant();
    const foreign = fx.directory.registerApp(other.id);
    const s = fx.directory.addSecret(foreign.clientId);
    expectEntraError(
      await secretRequest(fx, { client_id: foreign.clientId, client_secret: s.value }),
      400,
      'unauthorized_client',
      700016,
    );
  });

  it('90002: unknown tenant, by GUID and by domain', async () => {
    for (const tenant of ['99999999-9999-9999-9999-999999999999', 'fabrikam.onmicrosoft.com']) {
      const r = await tokenRequest(
        fx,
        {
          grant_type: 'client_credentials',
          client_id: fx.clientId,
          client_secret: fx.secret.value,
          scope: EXCHANGE_SCOPE,
        },
        { tenant },
      );
      const d = expectEntraError(r, 400, 'invalid_request', 90002);
      expect(d).toContain(`Tenant '${tenant}' not found.`);
    }
  });

  it('9001023: common, organizations and consumers are refused for client credentials', async () => {
    for (const tenant of ['common', 'organizations', 'consumers']) {
      const r = await tokenRequest(
        fx,
        {
          grant_type: 'client_credentials',
          client_id: fx.clientId,
          client_secret: fx.secret.value,
          scope: EXCHANGE_SCOPE,
        },
        { tenant },
      );
      const d = expectEntraError(r, 400, 'invalid_request', 9001023);
      expect(d).toContain(`/${tenant} endpoint`);
    }
  });

  it('1002012: a scope without /.default (Mail.Send, SMTP.Send)', async () => {
    for (const scope of ['Mail.Send', 'https://outlook.office365.com/SMTP.Send']) {
      const d = expectEntraError(await secretRequest(fx, { scope }), 400, 'invalid_scope', 1002012);
      expect(d).toBe(
        `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
  });

  it('70011: malformed scope (two resources, empty resource)', async () => {
    const two = `${EXCHANGE_SCOPE} https://graph.microsoft.com/.default`;
    const d = expectEntraError(await secretRequest(fx, { scope: two }), 400, 'invalid_scope', 70011);
    expect(d).toBe(
      `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope ${two} is not valid.`,
    );
    expectEntraError(await secretRequest(fx, { scope: '/.default' }), 400, 'invalid_scope', 70011);
  });

  it('500011: unknown resource', async () => {
    const d = expectEntraError(
      await secretRequest(fx, { scope: 'https://outlook.example.com/.default' }),
      400,
      'invalid_resource',
      500011,
    );
    expect(d).toContain(
      `The resource principal named https://outlook.example.com was not found in the tenant named ${fx.tenantId}.`,
    );
  });

  it('7000218: no credential at all', async () => {
    const d = expectEntraError(
      await secretRequest(fx, { client_secret: undefined }),
      401,
      'invalid_client',
      7000218,
    );
    expect(d).toBe(
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  });

  it('900144: missing grant_type, client_id, scope', async () => {
    for (const name of ['grant_type', 'client_id', 'scope']) {
      const d = expectEntraError(
        await secretRequest(fx, { [name]: undefined }),
        400,
        'invalid_request',
        900144,
      );
      expect(d).toBe(`AADSTS900144: The request body must contain the following parameter: '${name}'.`);
    }
  });

  it('70003: another grant type; 900561: GET on the token endpoint', async () => {
    expectEntraError(
      await secretRequest(fx, { grant_type: 'password' }),
      400,
      'unsupported_grant_type',
      70003,
    );
    const r = await call(fx.server, { path: `/${fx.tenantId}/oauth2/v2.0/token` });
    expectEntraError(r, 400, 'invalid_request', 900561);
  });

  it('unknown routes are 404 JSON, not a crash', async () => {
    const r = await call(fx.server, { path: '/nothing/here' });
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('not_found');
  });
});

describe('token endpoint: multi-tenant apps need a service principal in the tenant (reference §8)', () => {
  // Reference §8: "since 31 March 2026 Entra issues app tokens only where the app has a service
  // principal in the resource tenant". Entra's refusal: 401 invalid_client AADSTS7000229.
  it('a foreign tenant without the service principal → AADSTS7000229; with it → a token of that tenant', async () => {
    const other = fx.directory.addTenant({ domains: ['fabrikam-mt.onmicrosoft.com'] });
    const ask = () =>
      tokenRequest(
        fx,
        {
          grant_type: 'client_credentials',
          client_id: fx.clientId,
          client_secret: fx.secret.value,
          scope: EXCHANGE_SCOPE,
        },
        { tenant: other.id },
      );
    try {
      // A single-tenant app in a foreign tenant is simply not found.
      expectEntraError(await ask(), 400, 'unauthorized_client', 700016);
      fx.server.multiTenantApps.allow(fx.clientId);
      const refused = expectEntraError(await ask(), 401, 'invalid_client', 7000229);
      expect(refused).toContain(
        `The client application ${fx.clientId} is missing service principal in the tenant ${other.id}`,
      );
      fx.server.multiTenantApps.addServicePrincipal(fx.clientId, other.id);
      const ok = await ask();
      expect(ok.status).toBe(200);
      expect(decodeJwt(ok.json.access_token as string).tid).toBe(other.id);
      // The home tenant needs no extra service principal.
      expect((await secretRequest(fx)).status).toBe(200);
    } finally {
      fx.server.multiTenantApps.clear();
    }
  });
});
