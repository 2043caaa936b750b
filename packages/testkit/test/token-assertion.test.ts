import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientCertificate } from '../src/pki/index.js';
import {
  assertionRequest,
  expectEntraError,
  signAssertion,
  startTokenFixture,
  type TokenFixture,
} from './fixtures/token.js';

let fx: TokenFixture;
beforeAll(async () => {
  fx = await startTokenFixture();
});
afterAll(() => fx.close());

describe('certificate client assertions', () => {
  it('RS256 + x5t (SHA-1 thumbprint) with a real signature → token with appidacr 2', async () => {
    const r = await assertionRequest(fx, await signAssertion(fx, { alg: 'RS256' }));
    expect(r.status).toBe(200);
    expect(decodeJwt(r.json.access_token).appidacr).toBe('2');
    expect(fx.server.requests().at(-1)?.authMethod).toBe('assertion-rs256');
  });

  it('PS256 + x5t#S256 (SHA-256 thumbprint) → token', async () => {
    const r = await assertionRequest(fx, await signAssertion(fx, { alg: 'PS256' }));
    expect(r.status).toBe(200);
    expect(decodeJwt(r.json.access_token).appidacr).toBe('2');
    expect(fx.server.requests().at(-1)?.authMethod).toBe('assertion-ps256');
  });

  it('accepts aud = the token URL with the verified domain, and the v1 token URL', async () => {
    const viaDomain = await signAssertion(fx, { aud: fx.server.tokenEndpoint(fx.domain) });
    expect((await assertionRequest(fx, viaDomain)).status).toBe(200);
    const v1 = await signAssertion(fx, { aud: `${fx.server.url}/${fx.tenantId}/oauth2/token` });
    expect((await assertionRequest(fx, v1)).status).toBe(200);
  });

  it('700027: certificate not registered, with the hex thumbprint in the message', async () => {
    const stranger = createClientCertificate();
    for (const alg of ['RS256', 'PS256'] as const) {
      const r = await assertionRequest(fx, await signAssertion(fx, { cert: stranger, alg }));
      const d = expectEntraError(r, 401, 'invalid_client', 700027);
      const hex = alg === 'RS256' ? stranger.thumbprintSha1 : stranger.thumbprintSha256;
      expect(d).toContain(
        'AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.',
      );
      expect(d).toContain(`Thumbprint of key used by client: '${hex}'`);
    }
  });

  it('700027: signed by an unregistered key but carrying a registered x5t → invalid signature', async () => {
    const impostor = createClientCertificate();
    for (const alg of ['RS256', 'PS256'] as const) {
      const r = await assertionRequest(
        fx,
        await signAssertion(fx, { alg, signingKeyPem: impostor.privateKeyPem }),
      );
      const d = expectEntraError(r, 401, 'invalid_client', 700027);
      expect(d).toContain('The provided signature value did not match the expected signature value.');
    }
  });

  it('700027: the registered certificate has expired', async () => {
    const now = fx.clock.now();
    const old = createClientCertificate({
      notBefore: new Date(now - 10 * 86_400_000),
      notAfter: new Date(now - 86_400_000),
    });
    fx.directory.addCertificate(fx.clientId, old.certificatePem);
    const d = expectEntraError(
      await assertionRequest(fx, await signAssertion(fx, { cert: old })),
      401,
      'invalid_client',
      700027,
    );
    expect(d).toContain('The key used is expired.');
  });

  it('refuses a replayed jti', async () => {
    const jti = randomUUID();
    expect((await assertionRequest(fx, await signAssertion(fx, { jti }))).status).toBe(200);
    const again = await assertionRequest(fx, await signAssertion(fx, { jti }));
    const d = expectEntraError(again, 401, 'invalid_client', 50027);
    expect(d).toContain("'jti' has already been used");
    // The very same assertion string, replayed as is.
    const same = await signAssertion(fx);
    expect((await assertionRequest(fx, same)).status).toBe(200);
    expect((await assertionRequest(fx, same)).status).toBe(401);
  });

  it('requires a jti', async () => {
    const d = expectEntraError(
      await assertionRequest(fx, await signAssertion(fx, { jti: null })),
      400,
      'invalid_request',
      50027,
    );
    expect(d).toContain("no 'jti'");
  });

  it('700024: expired, or not yet valid (beyond 5 minutes of skew), on the shared clock', async () => {
    const expired = await signAssertion(fx, { nbfIn: -3600, expIn: -301 });
    const d = expectEntraError(await assertionRequest(fx, expired), 400, 'invalid_client', 700024);
    expect(d).toMatch(/^AADSTS700024: Client assertion is not within its valid time range\. Current time: /);
    const future = await signAssertion(fx, { nbfIn: 400, expIn: 900 });
    expectEntraError(await assertionRequest(fx, future), 400, 'invalid_client', 700024);
    // Within the skew it passes.
    expect((await assertionRequest(fx, await signAssertion(fx, { nbfIn: -900, expIn: -60 }))).status).toBe(
      200,
    );
    // Moving the shared clock makes a valid assertion expire.
    const fresh = await signAssertion(fx, { expIn: 600 });
    fx.clock.advance(3_600_000);
    try {
      expectEntraError(await assertionRequest(fx, fresh), 400, 'invalid_client', 700024);
    } finally {
      fx.clock.advance(-3_600_000);
    }
  });

  it('700023: aud is not this token endpoint', async () => {
    for (const aud of [
      'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      `${fx.server.url}/${randomUUID()}/oauth2/v2.0/token`,
    ]) {
      const d = expectEntraError(
        await assertionRequest(fx, await signAssertion(fx, { aud })),
        401,
        'invalid_client',
        700023,
      );
      expect(d).toContain('Client assertion audience claim does not match Realm issuer.');
    }
  });

  it('700021: iss/sub is not the client_id', async () => {
    const other = randomUUID();
    expectEntraError(
      await assertionRequest(fx, await signAssertion(fx, { iss: other })),
      401,
      'invalid_client',
      700021,
    );
    expectEntraError(
      await assertionRequest(fx, await signAssertion(fx, { sub: other })),
      401,
      'invalid_client',
      700021,
    );
  });

  it('refuses garbage, alg none/HS256, and a header without thumbprint', async () => {
    expectEntraError(await assertionRequest(fx, 'not.a.jwt'), 400, 'invalid_request', 50027);
    const noThumb = await signAssertion(fx, { alg: 'RS256', header: { alg: 'RS256' } });
    expectEntraError(await assertionRequest(fx, noThumb), 400, 'invalid_request', 50027);
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', x5t: fx.cert.x5t })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`;
    expectEntraError(await assertionRequest(fx, hs), 400, 'invalid_request', 50027);
  });

  it('900144 without client_assertion_type; 50027 with a wrong one', async () => {
    const a = await signAssertion(fx);
    expectEntraError(
      await assertionRequest(fx, a, { client_assertion_type: undefined }),
      400,
      'invalid_request',
      900144,
    );
    expectEntraError(
      await assertionRequest(fx, a, { client_assertion_type: 'urn:x' }),
      400,
      'invalid_request',
      50027,
    );
  });
});
