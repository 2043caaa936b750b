import { describe, expect, it } from 'vitest';
import { type EmailServerConfigInput, parseConfig } from '../src/config/index.js';
import type { EmailServerConfig } from '../src/config/schema.js';
import { testAccessToken } from '../src/tokens/token-test.js';

// The one token test behind `smtp-oauth token` and the server's test-token action. Both front ends
// have end-to-end tests against the testkit; these pin the verdicts on which they used to differ.

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) =>
  `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`;

const NOW = Date.UTC(2026, 10, 26, 12);
const TID = '11111111-2222-3333-4444-555555555555';
const OTHER_TID = '99999999-8888-7777-6666-555555555555';
const CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const good = {
  aud: 'https://outlook.office365.com',
  iss: `https://sts.windows.net/${TID}/`,
  tid: TID,
  appid: CLIENT_ID,
  appidacr: '1',
  idtyp: 'app',
  roles: ['SMTP.SendAsApp'],
  nbf: NOW / 1000 - 60,
  exp: NOW / 1000 + 3600,
};

function config(
  auth: Record<string, unknown> = {},
  overrides: Partial<EmailServerConfigInput> = {},
): EmailServerConfig {
  const r = parseConfig({
    name: 'main',
    host: 'smtp.office365.com',
    user: 'noreply@contoso.com',
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: `https://login.microsoftonline.com/${TID}/oauth2/v2.0/token`,
      clientId: CLIENT_ID,
      scope: 'https://outlook.office365.com/.default',
      credential: { kind: 'secret', secret: 'Abc8Q~s3cr3t.value_x' },
      ...auth,
    },
    ...overrides,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}
const token = (accessToken: string) => ({ accessToken, expiresAt: NOW + 3_600_000, tokenType: 'Bearer' });
const at = { now: () => NOW };

describe('testAccessToken', () => {
  it('passes a good Exchange token: expiry, every check, and never the token itself', () => {
    const raw = jwt(good);
    const t = testAccessToken(token(raw), config(), at);
    expect(t).toMatchObject({ ok: true, exchangeBound: true, expiresInMs: 3_600_000, tokenType: 'Bearer' });
    expect(t.failed).toBeUndefined();
    expect(t.inspection.findings.map((f) => f.check)).toEqual(
      expect.arrayContaining(['format', 'audience', 'roles', 'tenant', 'expiry', 'app-only']),
    );
    expect(t.inspection.findings.every((f) => f.ok)).toBe(true);
    expect(JSON.stringify(t)).not.toContain(raw);
  });

  // Regression: the server's test-token did not compare the token's tenant with the entry's token
  // endpoint, while `smtp-oauth token` did; a token from another tenant passed in the WebAdmin.
  it('fails a token from another tenant than the entry’s token endpoint names', () => {
    const t = testAccessToken(token(jwt({ ...good, tid: OTHER_TID })), config(), at);
    expect(t.ok).toBe(false);
    expect(t.failed).toMatchObject({ check: 'tenant', ok: false });
    expect(t.failed?.message).toContain(OTHER_TID);
  });

  it('judges roles by the permission model: none is a failure classically, right under RBAC', () => {
    const { roles: _roles, ...noRoles } = good;
    const classic = testAccessToken(token(jwt(noRoles)), config(), at);
    expect(classic.ok).toBe(false);
    expect(classic.failed?.check).toBe('roles');
    const rbac = testAccessToken(token(jwt(noRoles)), config({ permissionModel: 'rbac' }), at);
    expect(rbac.ok).toBe(true);
    expect(rbac.inspection.findings.find((f) => f.check === 'roles')).toMatchObject({ ok: true });
  });

  it('fails an expired token and reports the negative time left', () => {
    const expired = { ...good, exp: NOW / 1000 - 120 };
    const t = testAccessToken({ ...token(jwt(expired)), expiresAt: NOW - 120_000 }, config(), at);
    expect(t.ok).toBe(false);
    expect(t.failed?.check).toBe('expiry');
    expect(t.expiresInMs).toBe(-120_000);
  });

  // Regression: the server's test-token called an opaque token from a generic provider a failure,
  // while `smtp-oauth token` accepted it; only a token Exchange will read must be a JWT.
  it('accepts an opaque token from a generic provider, but not one bound for Exchange', () => {
    const generic = config(
      {
        provider: 'generic',
        tokenEndpoint: 'https://oauth2.example.org/token',
        clientId: 'my-client',
        scope: 'mail.send',
      },
      { host: 'smtp.example.org' },
    );
    const opaque = testAccessToken(token('ya29.opaque-token-value'), generic, at);
    expect(opaque).toMatchObject({ ok: true, exchangeBound: false });
    expect(opaque.inspection.claims).toBeUndefined();
    expect(opaque.inspection.findings[0]).toMatchObject({ check: 'format', ok: false });

    const entra = testAccessToken(token('ya29.opaque-token-value'), config(), at);
    expect(entra).toMatchObject({ ok: false, exchangeBound: true });
    expect(entra.failed?.check).toBe('format');
  });

  it('names the field of a token that is not an AccessToken (plain-JS callers)', () => {
    expect(() => testAccessToken({ accessToken: 42 } as never, config(), at)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        issues: [expect.objectContaining({ path: 'token.accessToken' })],
      }),
    );
  });
});
