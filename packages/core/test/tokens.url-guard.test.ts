/**
 * Regression (issue 13 §2, S5): an allowed host served OpenID metadata whose `token_endpoint` named
 * another host, and MSAL posted the client secret there. `checkUrl` now sees every URL a token
 * provider contacts, and a redirect is an error, never a hop.
 *
 * Real servers: the testkit's token server on 127.0.0.1 (the allowed host) advertises the endpoints
 * of a second one on 127.0.0.2 (same directory, keys and CA — it would issue a token), which counts
 * every HTTP request it gets.
 */
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { createTokenServer, type TokenServer } from '@org/testkit/token';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSmtpOAuthError, type SmtpOAuthError } from '../src/errors/index.js';
import { sendTest } from '../src/mailer/send-test.js';
import { createTokenProvider } from '../src/tokens/create.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';

let env: TestEnvironment;
let outside: TokenServer;
let lure: TokenServer;

beforeAll(async () => {
  env = await createTestEnvironment();
  const shared = { directory: env.directory, clock: env.clock, ca: env.tokenServer.ca };
  outside = await createTokenServer({ ...shared, shareKeysWith: env.tokenServer, host: '127.0.0.2' });
  lure = await createTokenServer({
    ...shared,
    shareKeysWith: env.tokenServer,
    host: '127.0.0.1',
    advertisedBaseUrl: outside.url,
  });
});
afterAll(async () => {
  await lure?.close();
  await outside?.close();
  await env?.close();
});
beforeEach(() => {
  env.tokenServer.faults.clear();
});

/** The operator's allow-list in miniature: only 127.0.0.1; records what it was asked. */
function loopbackOnly() {
  const seen: string[] = [];
  return {
    seen,
    checkUrl: (url: URL) => {
      seen.push(url.href);
      if (url.hostname !== '127.0.0.1') throw new Error(`host ${url.hostname} is not allowed`);
    },
  };
}

const options = (tokenEndpoint: string) => ({
  tokenEndpoint,
  clientId: env.clientId,
  scope: env.scope,
  credential: { kind: 'secret' as const, secret: env.clientSecret },
  ca: env.caPem,
  retry: false as const,
});

async function failure(run: () => Promise<unknown>): Promise<SmtpOAuthError> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSmtpOAuthError(err)) throw new Error(`expected an SmtpOAuthError, got ${String(err)}`);
  return err;
}

describe('checkUrl: every URL a token provider contacts passes the caller’s check', () => {
  it('control: without checkUrl, MSAL follows the metadata and posts the secret to the other host', async () => {
    const before = outside.requests().length;
    const token = await createEntraTokenProvider(options(lure.tokenEndpoint(env.tenantId))).getToken();
    expect(token.accessToken.length).toBeGreaterThan(0);
    // This is the leak the check exists for: the token request went to 127.0.0.2.
    expect(outside.requests().length).toBe(before + 1);
  });

  it('Entra: metadata naming a non-allowed token_endpoint → TOKEN_ENDPOINT_NOT_ALLOWED, nothing reaches that host', async () => {
    const guard = loopbackOnly();
    const before = outside.httpRequestCount();
    const provider = createEntraTokenProvider({
      ...options(lure.tokenEndpoint(env.tenantId)),
      checkUrl: guard.checkUrl,
    });
    const err = await failure(() => provider.getToken());
    expect(err.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
    expect(err.message).toContain('127.0.0.2');
    expect(err.message).not.toContain(env.clientSecret);
    expect(outside.httpRequestCount()).toBe(before);
    // The metadata was fetched (allowed host) and the advertised token endpoint was asked about.
    expect(guard.seen).toContain(`${lure.url}/${env.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(guard.seen.some((u) => u.startsWith(`${outside.url}/`))).toBe(true);
  });

  it('Entra, allowed everywhere: the check sees the metadata URL and the token endpoint, and the token comes', async () => {
    const guard = loopbackOnly();
    const token = await createEntraTokenProvider({
      ...options(env.tokenEndpoint),
      checkUrl: guard.checkUrl,
    }).getToken();
    expect(token.accessToken.length).toBeGreaterThan(0);
    // MSAL adds `?client-request-id=…` to the token URL.
    expect(guard.seen.map((u) => u.split('?')[0])).toEqual([
      `${env.authority}/v2.0/.well-known/openid-configuration`,
      env.tokenEndpoint,
    ]);
  });

  it('generic: a refused token endpoint is never contacted; a thrown SmtpOAuthError passes through', async () => {
    const guard = loopbackOnly();
    const before = outside.httpRequestCount();
    const err = await failure(() =>
      createOAuth2TokenProvider({
        ...options(outside.tokenEndpoint(env.tenantId)),
        checkUrl: guard.checkUrl,
      }).getToken(),
    );
    expect(err.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
    expect(err.details.host).toBe('127.0.0.2');
    expect(outside.httpRequestCount()).toBe(before);
  });

  it('a checkUrl that is not a function is refused when the provider is built (CONFIG_INVALID naming it)', () => {
    for (const create of [createEntraTokenProvider, createOAuth2TokenProvider]) {
      const build = () => create({ ...options(env.tokenEndpoint), checkUrl: 'allow-all' as never });
      expect(build).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('checkUrl') }),
      );
    }
  });

  it('createTokenProvider and sendTest pass checkUrl on (entry config → provider)', async () => {
    const refused = {
      ...env.config,
      auth: { ...env.config.auth, tokenEndpoint: lure.tokenEndpoint(env.tenantId) },
    };
    const before = outside.httpRequestCount();
    const err = await failure(() =>
      createTokenProvider(refused, { retry: false, checkUrl: loopbackOnly().checkUrl }).getToken(),
    );
    expect(err.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
    const result = await sendTest(
      refused,
      { to: env.mailbox, subject: 't', text: 't' },
      { checkUrl: loopbackOnly().checkUrl, explain: false },
    );
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('TOKEN_ENDPOINT_NOT_ALLOWED');
    expect(outside.httpRequestCount()).toBe(before);
  });
});

describe('redirects are errors, not hops (the request carries the credential)', () => {
  for (const provider of ['entra', 'generic'] as const) {
    for (const status of [302, 307, 308] as const) {
      it(`${provider}: the token endpoint answers ${status} to another host → TOKEN_ENDPOINT_REJECTED, that host gets nothing`, async () => {
        env.tokenServer.faults.add({
          match: { path: '/oauth2/v2.0/token' },
          times: 'always',
          action: { type: 'redirect', status, location: outside.tokenEndpoint(env.tenantId) },
        });
        const before = outside.httpRequestCount();
        const create = provider === 'entra' ? createEntraTokenProvider : createOAuth2TokenProvider;
        // No checkUrl: not following is the client's own rule, whatever the caller checks.
        const err = await failure(() => create(options(env.tokenEndpoint)).getToken());
        expect(err.code).toBe('TOKEN_ENDPOINT_REJECTED');
        expect(err.details.location).toBe(new URL(outside.url).host);
        expect(err.message).toContain(`HTTP ${status}`);
        expect(outside.httpRequestCount()).toBe(before);
      });
    }
  }

  it('entra: a redirect of the OpenID metadata is refused the same way', async () => {
    env.tokenServer.faults.add({
      match: { path: /openid-configuration$/ },
      times: 'always',
      action: {
        type: 'redirect',
        status: 302,
        location: `${outside.url}/${env.tenantId}/v2.0/.well-known/openid-configuration`,
      },
    });
    const before = outside.httpRequestCount();
    const err = await failure(() => createEntraTokenProvider(options(env.tokenEndpoint)).getToken());
    expect(err.code).toBe('TOKEN_ENDPOINT_REJECTED');
    expect(err.details.location).toBe(new URL(outside.url).host);
    expect(outside.httpRequestCount()).toBe(before);
  });
});
