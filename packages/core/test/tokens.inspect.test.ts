import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';
import { inspectAccessToken, type TokenInspection } from '../src/tokens/inspect.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' },
) => `${b64(header)}.${b64(claims)}.c2lnbmF0dXJl`;
const finding = (r: TokenInspection, check: string) => r.findings.find((f) => f.check === check);

const NOW = Date.UTC(2026, 10, 26, 12);
const TID = '11111111-2222-3333-4444-555555555555';
const good = {
  aud: 'https://outlook.office365.com',
  iss: `https://sts.windows.net/${TID}/`,
  tid: TID,
  appid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  appidacr: '2',
  idtyp: 'app',
  roles: ['SMTP.SendAsApp'],
  nbf: NOW / 1000 - 60,
  exp: NOW / 1000 + 3600,
};

describe('inspectAccessToken', () => {
  it('passes a well-formed app-only Exchange token and reports the credential type', () => {
    const r = inspectAccessToken(jwt(good), { tenant: TID, now: () => NOW });
    expect(r.ok).toBe(true);
    expect(r.claims).toMatchObject({ tid: TID });
    expect(finding(r, 'credential-type')?.message).toMatch(/certificate/);
  });

  it('flags a Graph audience with the scope fix', () => {
    const r = inspectAccessToken(jwt({ ...good, aud: 'https://graph.microsoft.com' }), { now: () => NOW });
    expect(finding(r, 'audience')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('https://outlook.office365.com/.default'),
    });
    expect(finding(r, 'audience')?.message).toMatch(/Graph/);
  });

  it('flags missing roles with the admin-consent URL for the token’s tenant and app', () => {
    const { roles: _roles, ...noRoles } = good;
    const r = inspectAccessToken(jwt(noRoles), { now: () => NOW });
    const f = finding(r, 'roles');
    expect(f?.ok).toBe(false);
    expect(f?.fix).toContain(`https://login.microsoftonline.com/${TID}/adminconsent?client_id=${good.appid}`);
  });

  it('flags another tenant, expiry, not-yet-valid and delegated tokens', () => {
    expect(
      finding(
        inspectAccessToken(jwt(good), { tenant: '99999999-2222-3333-4444-555555555555', now: () => NOW }),
        'tenant',
      )?.ok,
    ).toBe(false);
    expect(finding(inspectAccessToken(jwt(good), { now: () => NOW + 2 * 3600_000 }), 'expiry')?.ok).toBe(
      false,
    );
    expect(finding(inspectAccessToken(jwt(good), { now: () => NOW - 3600_000 }), 'expiry')?.message).toMatch(
      /not valid before/,
    );
    const delegated = inspectAccessToken(
      jwt({ ...good, upn: 'u@contoso.com', idtyp: 'user', scp: 'SMTP.Send' }),
      { now: () => NOW },
    );
    expect(finding(delegated, 'app-only')).toMatchObject({ ok: false });
  });

  it('checks an expected audience exactly', () => {
    const r = inspectAccessToken(jwt(good), {
      expectedAudience: 'https://outlook.office365.us',
      now: () => NOW,
    });
    expect(finding(r, 'audience')?.ok).toBe(false);
  });

  it('never throws on garbage, and never echoes the token', () => {
    for (const bad of [
      '',
      'abc',
      'a.b.c',
      `${b64([1])}.${b64(1)}.x`,
      'eyJhbGciOiJub25lIn0.eyJ.x',
      null as unknown as string,
    ]) {
      const r = inspectAccessToken(bad);
      expect(r.ok).toBe(false);
      expect(r.findings[0]).toMatchObject({ check: 'format', ok: false });
    }
    const token = jwt(good);
    const r = inspectAccessToken(token, { now: () => NOW });
    const signature = token.split('.')[2] as string;
    expect(JSON.stringify(r)).not.toContain(signature);
    expect(JSON.stringify(r)).not.toContain(token);
  });

  describe('on tokens from the testkit', () => {
    let env: TestEnvironment;
    beforeAll(async () => {
      env = await createTestEnvironment();
    });
    afterAll(async () => {
      await env?.close();
    });

    it('a consented app passes; after consent is revoked the roles check fails', async () => {
      const provider = () =>
        createOAuth2TokenProvider({
          tokenEndpoint: env.tokenEndpoint,
          clientId: env.clientId,
          scope: env.scope,
          credential: { kind: 'secret', secret: env.clientSecret },
          ca: env.caPem,
          now: env.clock.now,
        });
      const ok = inspectAccessToken((await provider().getToken()).accessToken, {
        tenant: env.tenantId,
        now: env.clock.now,
      });
      expect(ok.ok).toBe(true);
      expect(finding(ok, 'credential-type')?.message).toMatch(/client secret/);
      env.directory.revokeAdminConsent(env.clientId);
      try {
        const bad = inspectAccessToken((await provider().getToken()).accessToken, { now: env.clock.now });
        expect(finding(bad, 'roles')?.ok).toBe(false);
      } finally {
        env.directory.grantAdminConsent(env.clientId);
      }
    });
  });
});
