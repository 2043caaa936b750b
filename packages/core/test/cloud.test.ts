/**
 * National clouds are one model (issue 18 §7, issue 11 §1): the entry's cloud is read from the
 * token host, the scope and the SMTP host; a mix is refused; every hint uses the entry's cloud.
 */
import { describe, expect, it } from 'vitest';
import { cloudIssues, entryCloud } from '../src/config/cloud.js';
import { type EntraCloud, entraClouds } from '../src/config/microsoft.js';
import { parseConfig } from '../src/config/parse.js';
import { errorFromTokenResponse } from '../src/errors/index.js';
import { fixes, fixValues } from '../src/setup/fixes.js';
import { checkTokenEndpoint, tokenErrorContext } from '../src/tokens/shared.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const clouds = Object.keys(entraClouds) as EntraCloud[];

const endpointOf = (cloud: EntraCloud) =>
  `https://${entraClouds[cloud].loginHost}/${TENANT}/oauth2/v2.0/token`;
const entry = (values: { host: string; tokenEndpoint: string; scope: string }) => ({
  name: 'cloud-test',
  host: values.host,
  user: 'sender@contoso.com',
  auth: {
    type: 'oauth2',
    provider: 'entra',
    tokenEndpoint: values.tokenEndpoint,
    clientId: CLIENT,
    scope: values.scope,
    credential: { kind: 'secret', secret: 'not-a-real-secret-value~123' },
  },
});
const consistent = (cloud: EntraCloud) => ({
  host: entraClouds[cloud].smtpHost,
  tokenEndpoint: endpointOf(cloud),
  scope: entraClouds[cloud].scope,
});

/** The AADSTS error body Entra sends. */
const entraError = (status: number, error: string, code: number, description: string) => ({
  status,
  body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code] },
});

describe('the cloud of an entry', () => {
  it.each(clouds)('a consistent %s entry is valid and reads as that cloud', (cloud) => {
    expect(parseConfig(entry(consistent(cloud))).ok).toBe(true);
    expect(entryCloud(consistent(cloud))).toMatchObject({ cloud, conflicts: [] });
  });

  // Regression: `host: smtp.office365.us` with the global token endpoint and scope was "valid".
  it('refuses a GCC High SMTP host with the global token endpoint and scope, naming the field and the values', () => {
    const result = parseConfig(entry({ ...consistent('global'), host: 'smtp.office365.us' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === 'host');
    expect(issue?.message).toContain('US Government (GCC High)');
    expect(issue?.message).toContain('auth.tokenEndpoint and auth.scope');
    expect(issue?.message).toContain(entraClouds.global.smtpHost);
  });

  // Every mix of the three clouds, field by field: the odd field is named with its consistent value.
  const mixes = clouds.flatMap((a) =>
    clouds
      .filter((b) => b !== a)
      .flatMap((b) => (['host', 'tokenEndpoint', 'scope'] as const).map((field) => [a, b, field] as const)),
  );
  it.each(mixes)('a %s entry with a %s %s is refused', (a, b, field) => {
    const values = { ...consistent(a), [field]: consistent(b)[field] };
    const result = parseConfig(entry(values));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const path = field === 'host' ? 'host' : `auth.${field}`;
    const issue = result.issues.find((i) => i.path === path);
    expect(issue?.message).toContain(entraClouds[b].label);
    expect(issue?.message).toContain(consistent(a)[field]);
  });

  it('values that are not Microsoft ones (the testkit, a private IdP) name no cloud', () => {
    expect(
      cloudIssues({
        host: '127.0.0.1',
        tokenEndpoint: 'https://127.0.0.1:4000/t/oauth2/v2.0/token',
        scope: entraClouds.usGovernment.scope,
      }),
    ).toEqual([]);
  });
});

describe('token error hints use the entry cloud', () => {
  const ctxOf = (cloud: EntraCloud, scope = entraClouds[cloud].scope) =>
    tokenErrorContext({ clientId: CLIENT, scope }, checkTokenEndpoint(endpointOf(cloud)), Date.now);
  const otherClouds = (cloud: EntraCloud) => clouds.filter((c) => c !== cloud).map((c) => entraClouds[c]);

  // Regression: hints gave GCC High and China users the global consent URL and scope, and told a
  // GCC High entry refused with AADSTS500011 to "use" the global scope.
  it.each(['usGovernment', 'china'] as const)(
    '%s: consent URL and scope of that cloud, never the global ones',
    (cloud) => {
      const ctx = ctxOf(cloud);
      const info = entraClouds[cloud];
      const hints = [
        errorFromTokenResponse(entraError(400, 'unauthorized_client', 700016, 'Application not found.'), ctx),
        errorFromTokenResponse(entraError(400, 'invalid_scope', 1002012, 'scope not valid'), ctx),
        errorFromTokenResponse(entraError(400, 'invalid_scope', 70011, 'scope not valid'), ctx),
        errorFromTokenResponse(
          entraError(400, 'invalid_resource', 500011, 'resource principal not found'),
          ctx,
        ),
        errorFromTokenResponse(entraError(400, 'invalid_request', 9001023, 'common endpoint'), ctx),
        errorFromTokenResponse(entraError(401, 'invalid_client', 7000229, 'missing service principal'), ctx),
      ].map((e) => e.hint);
      expect(hints[0]).toContain(`https://${info.loginHost}/${TENANT}/adminconsent?client_id=${CLIENT}`);
      expect(hints[1]).toContain(info.scope);
      expect(hints[2]).toContain(info.scope);
      expect(hints[4]).toContain(`https://${info.loginHost}/`);
      expect(hints[5]).toContain(`https://${info.loginHost}/${TENANT}/adminconsent?client_id=${CLIENT}`);
      for (const hint of hints)
        for (const other of otherClouds(cloud)) {
          expect(hint).not.toContain(other.loginHost);
          expect(hint).not.toContain(other.scope);
        }
    },
  );

  it('AADSTS500011 never advises the scope already configured', () => {
    for (const cloud of clouds) {
      const err = errorFromTokenResponse(
        entraError(400, 'invalid_resource', 500011, 'resource principal not found'),
        ctxOf(cloud),
      );
      expect(err.code).toBe('TOKEN_RESOURCE_NOT_FOUND');
      expect(err.hint).not.toMatch(/\bUse https:\/\//);
      expect(err.hint).toContain(entraClouds[cloud].label);
    }
  });

  it('a token endpoint and scope of different clouds get their own code and hint', () => {
    const ctx = ctxOf('usGovernment', entraClouds.global.scope);
    for (const e of [
      entraError(400, 'invalid_resource', 500011, 'resource principal not found'),
      entraError(
        400,
        'invalid_request',
        90002,
        "Tenant not found. Check you're signing into the correct cloud.",
      ),
    ]) {
      const err = errorFromTokenResponse(e, ctx);
      expect(err.code).toBe('TOKEN_CLOUD_MISMATCH');
      expect(err.transient).toBe(false);
      expect(err.hint).toContain('US Government (GCC High)');
      expect(err.hint).toContain('Global');
      expect(err.hint).toContain(entraClouds.usGovernment.scope);
    }
  });

  it('the doctor fixes of a GCC High entry connect to GCC High and use its consent URL and scope', () => {
    const values = fixValues(entry(consistent('usGovernment')) as never, 'sender@contoso.com');
    const consent = fixes.adminConsent(values);
    expect(consent.links?.[0]?.url).toBe(
      `https://login.microsoftonline.us/${TENANT}/adminconsent?client_id=${CLIENT}`,
    );
    expect(fixes.servicePrincipal(values).commands?.[0]).toContain(
      '-ExchangeEnvironmentName O365USGovGCCHigh',
    );
    // Regression: the doctor's scope fix never advises the scope already configured.
    const same = fixes.scope(values);
    expect(same.commands).toBeUndefined();
    expect(same.summary).toContain('already https://outlook.office365.us/.default');
    expect(fixes.scope({ ...values, scope: entraClouds.global.scope }).commands).toEqual([
      `"scope": "${entraClouds.usGovernment.scope}"`,
    ]);
    // The SMTP host alone names the cloud when the token endpoint is not a Microsoft one.
    const byHost = fixValues(
      {
        user: 'a@b.c',
        host: 'smtp.partner.outlook.cn',
        auth: { type: 'oauth2', tokenEndpoint: 'https://127.0.0.1/t/oauth2/v2.0/token', clientId: CLIENT },
      },
      'a@b.c',
    );
    expect(byHost.expectedScope).toBe(entraClouds.china.scope);
  });
});
