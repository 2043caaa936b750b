/**
 * Interop proof: unmodified @azure/msal-node 7 obtains tokens from the testkit's HTTPS token server.
 *
 * What msal-node needs (core's Entra provider does the same):
 * - `system.networkClient`: msal's default client is global `fetch`, which has no per-request CA; an
 *   `INetworkModule` on node:https with `ca: server.caPem` (createCaTrustingNetworkClient) trusts the testkit CA.
 * - `auth.knownAuthorities: [host:port]` (or `auth.cloudDiscoveryMetadata`): otherwise msal sends its instance
 *   discovery to https://login.microsoftonline.com/common/discovery/instance, whatever the authority host.
 */
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaTrustingNetworkClient } from '../src/token/index.js';
import { call, EXCHANGE_SCOPE, startTokenFixture, type TokenFixture } from './fixtures/token.js';

let fx: TokenFixture;
beforeAll(async () => {
  fx = await startTokenFixture();
});
afterAll(() => fx.close());

function msal(auth: Partial<Configuration['auth']>, seen: string[] = []) {
  const host = new URL(fx.server.url).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: fx.clientId,
      authority: fx.server.authority(fx.tenantId),
      knownAuthorities: [host],
      ...auth,
    },
    system: {
      networkClient: createCaTrustingNetworkClient({
        ca: fx.server.caPem!,
        allowedOrigins: [fx.server.url],
        onRequest: (method, url) => seen.push(`${method} ${url}`),
      }),
    },
  });
}

function expectExchangeToken(accessToken: string, acr: '1' | '2') {
  const app = fx.directory.findApp(fx.clientId)!;
  expect(decodeJwt(accessToken)).toMatchObject({
    aud: 'https://outlook.office365.com',
    iss: `https://sts.windows.net/${fx.tenantId}/`,
    appid: fx.clientId,
    appidacr: acr,
    oid: app.servicePrincipalObjectId,
    tid: fx.tenantId,
    roles: ['SMTP.SendAsApp'],
    ver: '1.0',
    idtyp: 'app',
  });
}

describe('msal-node interop', () => {
  it('client secret: acquireTokenByClientCredential gets a token; MSAL fetched the OpenID configuration', async () => {
    fx.server.clearRequests();
    const seen: string[] = [];
    const result = await msal({ clientSecret: fx.secret.value }, seen).acquireTokenByClientCredential({
      scopes: [EXCHANGE_SCOPE],
    });
    expect(result?.accessToken).toBeTruthy();
    expect(result?.tokenType).toBe('Bearer');
    expectExchangeToken(result!.accessToken, '1');
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(`GET ${fx.server.url}/${fx.tenantId}/v2.0/.well-known/openid-configuration`);
    const post = /^POST (\S+)\?client-request-id=([0-9a-f-]{36})$/.exec(seen[1] ?? '');
    expect(post?.[1]).toBe(`${fx.server.url}/${fx.tenantId}/oauth2/v2.0/token`);
    expect(fx.server.requests().map((r) => [r.authMethod, r.correlationId])).toEqual([
      ['secret-body', post?.[2]],
    ]);
  });

  it('certificate with thumbprintSha256: PS256 + x5t#S256, real signature verified', async () => {
    fx.server.clearRequests();
    const result = await msal({
      clientCertificate: {
        thumbprintSha256: fx.cert.thumbprintSha256,
        privateKey: fx.cert.privateKeyPem,
        x5c: fx.cert.certificatePem,
      },
    }).acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] });
    expectExchangeToken(result!.accessToken, '2');
    expect(fx.server.requests()[0]).toMatchObject({ authMethod: 'assertion-ps256', outcome: 'issued' });
  });

  it('certificate with the deprecated SHA-1 thumbprint: RS256 + x5t', async () => {
    fx.server.clearRequests();
    const result = await msal({
      clientCertificate: { thumbprint: fx.cert.thumbprintSha1, privateKey: fx.cert.privateKeyPem },
    }).acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] });
    expectExchangeToken(result!.accessToken, '2');
    expect(fx.server.requests()[0]).toMatchObject({ authMethod: 'assertion-rs256', outcome: 'issued' });
  });

  it('authority by verified domain: MSAL maps the GUID endpoints back to the domain; assertion aud matches', async () => {
    fx.server.clearRequests();
    const seen: string[] = [];
    const result = await msal(
      {
        authority: fx.server.authority(fx.domain),
        clientCertificate: { thumbprintSha256: fx.cert.thumbprintSha256, privateKey: fx.cert.privateKeyPem },
      },
      seen,
    ).acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] });
    expectExchangeToken(result!.accessToken, '2');
    expect(seen.at(-1)?.split('?')[0]).toBe(`POST ${fx.server.url}/${fx.domain}/oauth2/v2.0/token`);
  });

  it('cloudDiscoveryMetadata taken from our /common/discovery/instance works without knownAuthorities', async () => {
    const authorize = `${fx.server.url}/${fx.tenantId}/oauth2/v2.0/authorize`;
    const discovery = await call(fx.server, {
      path: `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorize)}`,
    });
    const result = await msal({
      knownAuthorities: [],
      cloudDiscoveryMetadata: discovery.text,
      clientSecret: fx.secret.value,
    }).acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] });
    expectExchangeToken(result!.accessToken, '1');
  });

  it('without knownAuthorities/cloudDiscoveryMetadata MSAL calls login.microsoftonline.com (refused here)', async () => {
    const seen: string[] = [];
    await expect(
      msal({ knownAuthorities: [], clientSecret: fx.secret.value }, seen).acquireTokenByClientCredential({
        scopes: [EXCHANGE_SCOPE],
      }),
    ).rejects.toThrow();
    expect(seen[0]).toMatch(
      /^GET https:\/\/login\.microsoftonline\.com\/common\/discovery\/instance\?api-version=1\.1/,
    );
  });

  it('Entra errors surface in MSAL with the AADSTS text', async () => {
    const err = await msal({ clientSecret: fx.secret.id })
      .acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] })
      .then(
        () => undefined,
        (e: unknown) => e as { errorCode?: string; errorMessage?: string },
      );
    expect(err?.errorCode).toBe('invalid_client');
    expect(err?.errorMessage).toContain('AADSTS7000215: Invalid client secret provided.');
  });

  it('MSAL rejects a Mail.Send scope the way Entra does (AADSTS1002012)', async () => {
    const err = await msal({ clientSecret: fx.secret.value })
      .acquireTokenByClientCredential({ scopes: ['Mail.Send'] })
      .then(
        () => undefined,
        (e: unknown) => e as { errorCode?: string; errorMessage?: string },
      );
    expect(err?.errorCode).toBe('invalid_scope');
    expect(err?.errorMessage).toContain('AADSTS1002012');
  });

  it('a scripted 429 with Retry-After reaches MSAL as a server error (MSAL does not retry client credentials)', async () => {
    fx.server.clearRequests();
    fx.server.faults.add({
      match: { clientId: fx.clientId },
      action: { type: 'status', status: 429, retryAfter: 1 },
    });
    try {
      const err = await msal({ clientSecret: fx.secret.value })
        .acquireTokenByClientCredential({ scopes: [EXCHANGE_SCOPE] })
        .then(
          () => undefined,
          (e: unknown) => e as { errorCode?: string; errorMessage?: string },
        );
      expect(err?.errorCode).toBe('temporarily_unavailable');
      expect(err?.errorMessage).toContain('AADSTS90055');
      expect(fx.server.requests()).toHaveLength(1);
      expect(fx.server.requests()[0]?.fault).toBe('status 429 retry-after 1');
    } finally {
      fx.server.faults.clear();
    }
  });
});
