import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectEntraError,
  getToken,
  secretRequest,
  startTokenFixture,
  type TokenFixture,
} from './fixtures/token.js';

let fx: TokenFixture;
beforeAll(async () => {
  fx = await startTokenFixture();
});
afterAll(() => fx.close());

describe('discovery', () => {
  it('serves the tenant OpenID configuration, resolving a domain to the tenant GUID like Entra', async () => {
    for (const tenant of [fx.tenantId, fx.domain]) {
      const r = await call(fx.server, { path: `/${tenant}/v2.0/.well-known/openid-configuration` });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        token_endpoint: `${fx.server.url}/${fx.tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${fx.server.url}/${fx.tenantId}/discovery/v2.0/keys`,
        issuer: `${fx.server.url}/${fx.tenantId}/v2.0`,
        authorization_endpoint: `${fx.server.url}/${fx.tenantId}/oauth2/v2.0/authorize`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        cloud_instance_name: 'microsoftonline.com',
      });
    }
  });

  it('common keeps the {tenantid} placeholder in the issuer; unknown tenants get AADSTS90002', async () => {
    const common = await call(fx.server, { path: '/common/v2.0/.well-known/openid-configuration' });
    expect(common.json.issuer).toBe(`${fx.server.url}/{tenantid}/v2.0`);
    const unknown = await call(fx.server, {
      path: '/nobody.onmicrosoft.com/v2.0/.well-known/openid-configuration',
    });
    expectEntraError(unknown, 400, 'invalid_request', 90002);
  });

  it('serves instance discovery with our host as preferred_network and alias', async () => {
    const authorize = `${fx.server.url}/${fx.tenantId}/oauth2/v2.0/authorize`;
    const r = await call(fx.server, {
      path: `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorize)}`,
    });
    const host = new URL(fx.server.url).host;
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      tenant_discovery_endpoint: `${fx.server.url}/${fx.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [
        { preferred_network: host, preferred_cache: host, aliases: [host, `localhost:${fx.server.port}`] },
      ],
    });
    const foreign = await call(fx.server, {
      path: `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://evil.example/x/oauth2/v2.0/authorize')}`,
    });
    expectEntraError(foreign, 400, 'invalid_instance', 50049);
  });

  it('serves the JWKS per tenant and at common; tokens verify against it', async () => {
    const token = await getToken(fx);
    for (const tenant of [fx.tenantId, 'common']) {
      const r = await call(fx.server, { path: `/${tenant}/discovery/v2.0/keys` });
      expect(r.status).toBe(200);
      const [key] = r.json.keys;
      expect(key).toMatchObject({
        kty: 'RSA',
        use: 'sig',
        kid: fx.server.keys.current.kid,
        x5t: fx.server.keys.current.kid,
      });
      expect(key.x5c).toHaveLength(1);
      expect(key.issuer).toBe(`${fx.server.url}/${tenant === 'common' ? '{tenantid}' : fx.tenantId}/v2.0`);
      const { payload } = await jwtVerify(token, createLocalJWKSet(r.json), {
        currentDate: new Date(fx.clock.now()),
      });
      expect(payload.tid).toBe(fx.tenantId);
    }
  });

  it('rotates keys: new tokens use the new kid, old tokens still verify until the old key is dropped', async () => {
    const before = await getToken(fx);
    const oldKid = fx.server.keys.current.kid;
    await fx.server.keys.rotate();
    const after = await getToken(fx);
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
    expect(fx.server.keys.jwks().keys).toHaveLength(2);
    const opts = { currentDate: new Date(fx.clock.now()) };
    await jwtVerify(before, fx.server.keys.getKey, opts);
    await jwtVerify(after, fx.server.keys.getKey, opts);
    await fx.server.keys.rotate({ dropOld: true });
    await expect(jwtVerify(before, fx.server.keys.getKey, opts)).rejects.toThrow();
  });
});

describe('plain HTTP mode', () => {
  it('tls: false serves the same endpoints over http and exposes no CA', async () => {
    const plain = await startTokenFixture({ tls: false });
    try {
      expect(plain.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(plain.server.caPem).toBeUndefined();
      const r = await secretRequest(plain);
      expect(r.status).toBe(200);
      expect(decodeJwt(r.json.access_token).tid).toBe(plain.tenantId);
    } finally {
      await plain.close();
    }
  });
});
