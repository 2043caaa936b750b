/**
 * Multi-tenant apps (issue 14 §3): since 31 March 2026 Entra refuses a token in a tenant where the
 * app has no service principal (AADSTS7000229). The caller gets its own code and that tenant's
 * admin-consent URL — not the home tenant's, and not the generic "invalid client".
 */
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';

describe.each(['oauth2', 'entra'] as const)('missing service principal (%s provider)', (kind) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('AADSTS7000229 → TOKEN_SERVICE_PRINCIPAL_MISSING with the admin-consent URL of that tenant', async () => {
    const other = env.directory.addTenant({ domains: [`fabrikam-${kind}.onmicrosoft.com`] });
    env.tokenServer.multiTenantApps.allow(env.clientId);
    const options = {
      tokenEndpoint: env.tokenServer.tokenEndpoint(other.id),
      clientId: env.clientId,
      scope: env.scope,
      credential: { kind: 'secret' as const, secret: env.clientSecret },
      ca: env.caPem,
      now: env.clock.now,
      retry: false as const,
    };
    const provider =
      kind === 'oauth2' ? createOAuth2TokenProvider(options) : createEntraTokenProvider(options);
    const err = (await provider.getToken().catch((e: unknown) => e)) as SmtpOAuthError;
    expect(err.code).toBe('TOKEN_SERVICE_PRINCIPAL_MISSING');
    expect(err.transient).toBe(false);
    expect(err.details.aadsts).toBe(7000229);
    expect(err.hint).toContain(`/${other.id}/adminconsent?client_id=${env.clientId}`);
    expect(err.hint).not.toContain(`/${env.tenantId}/`);
    // Consent in that tenant creates the service principal: the same provider then gets a token.
    env.tokenServer.multiTenantApps.addServicePrincipal(env.clientId, other.id);
    await expect(provider.getToken()).resolves.toHaveProperty('accessToken');
  });
});
