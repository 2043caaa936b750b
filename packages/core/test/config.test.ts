import { describe, expect, it } from 'vitest';
import {
  applyPreset,
  ConfigError,
  configJsonSchema,
  configPresets,
  configWarnings,
  defineConfig,
  type EmailServerConfigInput,
  emailServerConfigSchema,
  entraTokenEndpoint,
  generic,
  isMicrosoftHost,
  isValidTenant,
  microsoft365,
  microsoft365China,
  microsoft365Gcc,
  microsoft365Hve,
  parseConfig,
  redactConfig,
} from '../src/config/index.js';
import { makeCertificate } from './fixtures/certs.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const ENDPOINT = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token';

type OAuthInput = Extract<EmailServerConfigInput['auth'], { type: 'oauth2' }>;

function entry(
  overrides: Partial<Omit<EmailServerConfigInput, 'auth'>> = {},
  auth: Partial<OAuthInput> = {},
): EmailServerConfigInput {
  return {
    name: 'main',
    host: 'smtp.office365.com',
    user: 'noreply@contoso.com',
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: ENDPOINT,
      clientId: CLIENT_ID,
      scope: 'https://outlook.office365.com/.default',
      credential: { kind: 'secret', secret: 'Abc8Q~s3cr3t.value_x' },
      ...auth,
    },
    ...overrides,
  };
}

function issuesOf(input: unknown) {
  const r = parseConfig(input);
  if (r.ok) throw new Error(`expected issues, got a valid config`);
  return r.issues;
}
function issueAt(input: unknown, path: string): string {
  const found = issuesOf(input).filter((i) => i.path === path);
  if (found.length === 0) throw new Error(`no issue at ${path}: ${JSON.stringify(issuesOf(input))}`);
  return found.map((i) => i.message).join(' | ');
}

describe('parseConfig: valid entries and defaults', () => {
  it('accepts the admin guide entry and fills port 587 / starttls', () => {
    const r = parseConfig(entry());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.port).toBe(587);
    expect(r.config.security).toBe('starttls');
  });

  it('465 implies tls, and tls implies 465', () => {
    const a = defineConfig(entry({ port: 465 }));
    expect(a.security).toBe('tls');
    const b = defineConfig(entry({ security: 'tls' }));
    expect(b.port).toBe(465);
  });

  it('accepts certificate and pfx credentials, password and none auth on other hosts', () => {
    const cert = makeCertificate();
    expect(
      parseConfig(
        entry(
          {},
          {
            credential: {
              kind: 'certificate',
              certificatePem: cert.certificatePem,
              privateKeyPem: cert.privateKeyPem,
            },
          },
        ),
      ).ok,
    ).toBe(true);
    expect(
      parseConfig(entry({}, { credential: { kind: 'pfx', pfxBase64: 'MIIKAA==', passphrase: 'x' } })).ok,
    ).toBe(true);
    expect(
      parseConfig({ ...entry({ host: 'mail.example.org' }), auth: { type: 'password', password: 'pw' } }).ok,
    ).toBe(true);
    expect(
      parseConfig({ ...entry({ host: 'relay.example.org', port: 25 }), auth: { type: 'none' } }).ok,
    ).toBe(true);
  });

  it('accepts a generic provider with a non-.default scope (e.g. Google)', () => {
    const r = parseConfig(
      entry(
        { host: 'smtp.gmail.com' },
        {
          provider: 'generic',
          tokenEndpoint: 'https://oauth2.googleapis.com/token',
          clientId: 'my-client',
          scope: 'https://mail.google.com/',
        },
      ),
    );
    expect(r.ok).toBe(true);
  });

  it('accepts IP hosts and thumbprints with colons', () => {
    expect(parseConfig(entry({ host: '127.0.0.1' })).ok).toBe(true);
    expect(parseConfig(entry({ host: '::1' })).ok).toBe(true);
    const cert = makeCertificate();
    const thumbprint = '84:e0:5c:1d:2a:6b:3f:4e:5d:6c:7b:8a:9f:0e:1d:2c:3b:4a:59:68';
    expect(
      parseConfig(
        entry(
          {},
          {
            credential: {
              kind: 'certificate',
              certificatePem: cert.certificatePem,
              privateKeyPem: cert.privateKeyPem,
              thumbprint,
            },
          },
        ),
      ).ok,
    ).toBe(true);
  });
});

describe('parseConfig: each rule names the field and the fix', () => {
  it('scope Mail.Send → <resource>/.default with the example', () => {
    expect(issueAt(entry({}, { scope: 'Mail.Send' }), 'auth.scope')).toBe(
      'must be `<resource>/.default` for client credentials, e.g. https://outlook.office365.com/.default',
    );
  });

  it('the example scope follows the cloud of the token endpoint', () => {
    const gcc = {
      tokenEndpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token',
      scope: 'SMTP.SendAsApp',
    };
    expect(issueAt(entry({ host: 'smtp.office365.us' }, gcc), 'auth.scope')).toContain(
      'https://outlook.office365.us/.default',
    );
  });

  it('several scopes are refused for Entra', () => {
    expect(
      issueAt(entry({}, { scope: 'https://outlook.office365.com/.default offline_access' }), 'auth.scope'),
    ).toContain('exactly one value');
  });

  it('a Graph scope on an Exchange host is a warning that explains the audience (the entry saves)', () => {
    const r = parseConfig(entry({}, { scope: 'https://graph.microsoft.com/.default' }));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const w = r.warnings.find((x) => x.code === 'GRAPH_SCOPE');
    expect(w?.path).toBe('auth.scope');
    const msg = w?.message ?? '';
    expect(msg).toContain('audience');
    expect(msg).toContain('535 5.7.3');
    expect(msg).toContain('https://outlook.office365.com/.default');
  });

  it('token endpoint must be https without userinfo', () => {
    expect(
      issueAt(
        entry({}, { tokenEndpoint: 'http://login.microsoftonline.com/x.com/oauth2/v2.0/token' }),
        'auth.tokenEndpoint',
      ),
    ).toContain('https');
    expect(
      issueAt(
        entry({}, { tokenEndpoint: 'https://u:p@login.microsoftonline.com/x.com/oauth2/v2.0/token' }),
        'auth.tokenEndpoint',
      ),
    ).toContain('user info');
    expect(issueAt(entry({}, { tokenEndpoint: 'not a url' }), 'auth.tokenEndpoint')).toContain('https URL');
  });

  it.each(['common', 'organizations', 'consumers'])('Entra tenant %s is refused', (tenant) => {
    const msg = issueAt(
      entry({}, { tokenEndpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token` }),
      'auth.tokenEndpoint',
    );
    expect(msg).toContain('cannot be used with client credentials');
    expect(msg).toContain('Directory (tenant) ID');
  });

  it('Entra v1 endpoint and odd paths are refused with the expected shape', () => {
    expect(
      issueAt(
        entry({}, { tokenEndpoint: 'https://login.microsoftonline.com/contoso.com/oauth2/token' }),
        'auth.tokenEndpoint',
      ),
    ).toContain('v2.0');
    expect(
      issueAt(entry({}, { tokenEndpoint: 'https://login.microsoftonline.com/token' }), 'auth.tokenEndpoint'),
    ).toContain('/oauth2/v2.0/token');
  });

  it('Entra clientId must be a GUID', () => {
    expect(issueAt(entry({}, { clientId: 'my-app' }), 'auth.clientId')).toContain('Application (client) ID');
  });

  it('a GUID as Entra client secret is the Secret ID, not the Value', () => {
    expect(
      issueAt(
        entry({}, { credential: { kind: 'secret', secret: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' } }),
        'auth.credential.secret',
      ),
    ).toContain("secret's Value");
  });

  it('user must be an email address', () => {
    expect(issueAt(entry({ user: 'noreply' }), 'user')).toContain('email address');
    expect(issueAt(entry({ from: 'a@@b' }), 'from')).toContain('email address');
  });

  it('CR, LF and NUL are refused in every single-line string field', () => {
    const bad = 'x\r\nBcc: evil@example.com';
    for (const [input, path] of [
      [entry({ name: bad }), 'name'],
      [entry({ host: `smtp.office365.com${bad}` }), 'host'],
      [entry({ user: `a@b.com${bad}` }), 'user'],
      [entry({ from: `a@b.com\n` }), 'from'],
      [entry({}, { clientId: `${CLIENT_ID}\n` }), 'auth.clientId'],
      [entry({}, { scope: 'https://outlook.office365.com/.default\r' }), 'auth.scope'],
      [entry({}, { tokenEndpoint: `${ENDPOINT}\n` }), 'auth.tokenEndpoint'],
      [entry({}, { credential: { kind: 'secret', secret: 'abc\0def' } }), 'auth.credential.secret'],
      [
        entry({}, { credential: { kind: 'pfx', pfxBase64: 'MIIK', passphrase: 'a\nb' } }),
        'auth.credential.passphrase',
      ],
      [
        { ...entry({ host: 'mail.example.org' }), auth: { type: 'password', password: 'pw\r\n' } },
        'auth.password',
      ],
    ] as const) {
      expect(issueAt(input, path)).toContain('line breaks');
    }
  });

  it('PEM fields allow line breaks but need the armour', () => {
    expect(
      issueAt(
        entry({}, { credential: { kind: 'certificate', certificatePem: 'abc', privateKeyPem: 'def' } }),
        'auth.credential.certificatePem',
      ),
    ).toContain('-----BEGIN CERTIFICATE-----');
    expect(issueAt(entry({ tls: { ca: 'nope' } }), 'tls.ca')).toContain('PEM');
  });

  it('tls on 587 is refused with the fix; starttls on 465 too', () => {
    expect(issueAt(entry({ port: 587, security: 'tls' }), 'security')).toContain(
      "Set security to 'starttls', or port to 465",
    );
    expect(issueAt(entry({ port: 465, security: 'starttls' }), 'security')).toContain(
      "Set security to 'tls'",
    );
  });

  it('host must be a bare host name', () => {
    expect(issueAt(entry({ host: 'smtp://smtp.office365.com' }), 'host')).toContain('without scheme');
    expect(issueAt(entry({ host: 'smtp.office365.com:587' }), 'host')).toContain('port');
    expect(issueAt(entry({ host: 'bad host' }), 'host')).toContain('host name');
  });

  it('port range and integer', () => {
    expect(issuesOf(entry({ port: 0 }))[0]?.path).toBe('port');
    expect(issuesOf(entry({ port: 70000 }))[0]?.path).toBe('port');
    expect(issuesOf(entry({ port: 58.7 }))[0]?.path).toBe('port');
  });

  it('thumbprint must be 40 or 64 hex digits', () => {
    const cert = makeCertificate();
    expect(
      issueAt(
        entry(
          {},
          {
            credential: {
              kind: 'certificate',
              certificatePem: cert.certificatePem,
              privateKeyPem: cert.privateKeyPem,
              thumbprint: 'abc',
            },
          },
        ),
        'auth.credential.thumbprint',
      ),
    ).toContain('SHA-1');
  });

  it('clientAuthMethod must fit the credential', () => {
    expect(issueAt(entry({}, { clientAuthMethod: 'private_key_jwt' }), 'auth.clientAuthMethod')).toContain(
      'certificate',
    );
    expect(
      issueAt(
        entry(
          {},
          { clientAuthMethod: 'client_secret_basic', credential: { kind: 'pfx', pfxBase64: 'MIIK' } },
        ),
        'auth.clientAuthMethod',
      ),
    ).toContain('secret');
  });

  it('unknown discriminators, unknown fields and missing fields get readable messages', () => {
    expect(issueAt({ ...entry(), auth: { type: 'kerberos' } }, 'auth.type')).toBe(
      "must be 'oauth2', 'password' or 'none'",
    );
    expect(issueAt(entry({}, { credential: { kind: 'magic' } as never }), 'auth.credential.kind')).toBe(
      "must be 'secret', 'certificate' or 'pfx'",
    );
    expect(issueAt({ ...entry(), clientID: 'x' }, '')).toBe('unknown field(s) "clientID"');
    const { user: _u, ...noUser } = entry();
    expect(issueAt(noUser, 'user')).toBe('is required');
  });

  it('reports every problem at once', () => {
    const issues = issuesOf(
      entry({ port: 587, security: 'tls', user: 'x' }, { scope: 'Mail.Send', clientId: 'app' }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['auth.clientId', 'auth.scope', 'security', 'user']);
  });
});

describe('defineConfig', () => {
  it('returns the validated config', () => {
    expect(defineConfig(entry()).host).toBe('smtp.office365.com');
  });
  it('throws ConfigError with issues and field paths', () => {
    try {
      defineConfig(entry({}, { scope: 'Mail.Send' }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.issues[0]?.path).toBe('auth.scope');
      expect(e.message).toContain('auth.scope: must be `<resource>/.default`');
    }
  });
  it('never puts the secret in the error', () => {
    const secret = 'Zz9~canary-secret-value';
    try {
      defineConfig(entry({ port: 587, security: 'tls' }, { credential: { kind: 'secret', secret } }));
    } catch (err) {
      expect(JSON.stringify(err)).not.toContain(secret);
      expect(String(err)).not.toContain(secret);
    }
  });
});

describe('configWarnings', () => {
  it('port 465 on Exchange Online is a warning, not an error', () => {
    const r = parseConfig(entry({ port: 465, security: 'tls' }));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.warnings.map((w) => w.code)).toContain('PORT_465_ON_MICROSOFT');
  });

  it('password auth on a Microsoft host is allowed but deprecated', () => {
    const r = parseConfig({ ...entry(), auth: { type: 'password', password: 'pw' } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.warnings.map((w) => w.code)).toEqual(['PASSWORD_AUTH_DEPRECATED']);
  });
  it('client secret on a Microsoft host → recommend a certificate', () => {
    const w = configWarnings(defineConfig(entry()));
    expect(w).toEqual([
      expect.objectContaining({ path: 'auth.credential', code: 'CLIENT_SECRET_NOT_RECOMMENDED' }),
    ]);
  });
  it('limits above Exchange per-mailbox limits, and no auth', () => {
    const codes = configWarnings(
      defineConfig({
        ...entry({ limits: { maxConnections: 5, messagesPerMinute: 60 } }),
        auth: { type: 'none' },
      }),
    ).map((w) => w.code);
    expect(codes).toEqual([
      'NO_AUTH_ON_MICROSOFT_HOST',
      'MAX_CONNECTIONS_ABOVE_EXCHANGE_LIMIT',
      'RATE_ABOVE_EXCHANGE_LIMIT',
    ]);
  });
  it('nothing for non-Microsoft hosts or certificate credentials', () => {
    expect(
      configWarnings(
        defineConfig({ ...entry({ host: 'mail.example.org' }), auth: { type: 'password', password: 'x' } }),
      ),
    ).toEqual([]);
    expect(
      configWarnings(defineConfig(entry({}, { credential: { kind: 'pfx', pfxBase64: 'MIIK' } }))),
    ).toEqual([]);
  });
});

describe('presets', () => {
  it('Microsoft 365 follows the admin guide', () => {
    expect(microsoft365).toMatchObject({
      host: 'smtp-mail.outlook.com',
      alternativeHosts: ['smtp.office365.com'],
      port: 587,
      security: 'starttls',
      scope: 'https://outlook.office365.com/.default',
      tokenEndpointTemplate: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    });
  });
  it('GCC High and China use their clouds', () => {
    expect(microsoft365Gcc).toMatchObject({
      host: 'smtp.office365.us',
      scope: 'https://outlook.office365.us/.default',
    });
    expect(applyPreset(microsoft365Gcc, { tenant: 'contoso.onmicrosoft.us' }).auth.tokenEndpoint).toBe(
      'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token',
    );
    expect(microsoft365China).toMatchObject({
      host: 'smtp.partner.outlook.cn',
      scope: 'https://partner.outlook.cn/.default',
    });
    expect(applyPreset(microsoft365China, { tenant: CLIENT_ID }).auth.tokenEndpoint).toBe(
      `https://login.partner.microsoftonline.cn/${CLIENT_ID}/oauth2/v2.0/token`,
    );
  });
  it('High Volume Email: smtp-hve.office365.com, 587, STARTTLS, the global cloud (reference §8)', () => {
    expect(microsoft365Hve).toMatchObject({
      host: 'smtp-hve.office365.com',
      port: 587,
      security: 'starttls',
      provider: 'entra',
      scope: 'https://outlook.office365.com/.default',
    });
    expect(microsoft365Hve.note).toMatch(/internal recipients|inside your own tenant/);
    const p = applyPreset(microsoft365Hve, { tenant: 'contoso.onmicrosoft.com' });
    expect(p).toMatchObject({ host: 'smtp-hve.office365.com', auth: { tokenEndpoint: ENDPOINT } });
    // A Microsoft host: the Exchange checks and warnings apply to it.
    expect(isMicrosoftHost(microsoft365Hve.host as string)).toBe(true);
  });
  it('applyPreset output plus the user fields is a valid config', () => {
    const p = applyPreset(microsoft365, { tenant: 'contoso.onmicrosoft.com' });
    const cfg = defineConfig({
      ...p,
      host: p.host as string,
      name: 'm365',
      user: 'noreply@contoso.com',
      auth: {
        ...p.auth,
        tokenEndpoint: p.auth.tokenEndpoint as string,
        scope: p.auth.scope as string,
        clientId: CLIENT_ID,
        credential: { kind: 'pfx', pfxBase64: 'MIIK' },
      },
    });
    expect(cfg.auth).toMatchObject({ provider: 'entra', tokenEndpoint: ENDPOINT });
  });
  it('Microsoft presets need a valid tenant; generic does not', () => {
    expect(() => applyPreset(microsoft365)).toThrow(ConfigError);
    expect(() => applyPreset(microsoft365, { tenant: 'common' })).toThrow(/client credentials/);
    expect(applyPreset(generic)).toEqual({
      port: 587,
      security: 'starttls',
      auth: { type: 'oauth2', provider: 'generic' },
    });
    expect(configPresets.map((p) => p.id)).toEqual([
      'microsoft365',
      'microsoft365Gcc',
      'microsoft365China',
      'microsoft365Hve',
      'generic',
    ]);
  });
  it('entraTokenEndpoint builds and validates', () => {
    expect(entraTokenEndpoint('global', 'contoso.onmicrosoft.com')).toBe(ENDPOINT);
    expect(() => entraTokenEndpoint('global', 'organizations')).toThrow(ConfigError);
    expect(() => entraTokenEndpoint('global', 'not a tenant')).toThrow(/GUID/);
  });
  it('isValidTenant / isMicrosoftHost', () => {
    expect(isValidTenant(CLIENT_ID)).toBe(true);
    expect(isValidTenant('contoso.onmicrosoft.com')).toBe(true);
    expect(isValidTenant('consumers')).toBe(false);
    expect(isValidTenant('contoso')).toBe(false);
    for (const h of [
      'smtp.office365.com',
      'SMTP-MAIL.OUTLOOK.COM',
      'smtp.office365.us',
      'smtp.partner.outlook.cn',
      'contoso-com.mail.protection.outlook.com.',
    ])
      expect(isMicrosoftHost(h), h).toBe(true);
    for (const h of ['smtp.gmail.com', 'outlook.com.evil.tld', 'notoutlook.com'])
      expect(isMicrosoftHost(h), h).toBe(false);
  });
});

describe('redactConfig', () => {
  it('replaces every secret by a set flag and keeps the thumbprint', () => {
    const secret = 'Abc8Q~s3cr3t.value_x';
    const cert = makeCertificate();
    const thumb = 'A'.repeat(40);
    const withSecret = redactConfig(defineConfig(entry({}, { credential: { kind: 'secret', secret } })));
    expect(withSecret.auth).toMatchObject({
      type: 'oauth2',
      credential: { kind: 'secret', clientSecretSet: true },
    });
    expect(JSON.stringify(withSecret)).not.toContain(secret);

    const withCert = redactConfig(
      defineConfig(
        entry(
          {},
          {
            credential: {
              kind: 'certificate',
              certificatePem: cert.certificatePem,
              privateKeyPem: cert.privateKeyPem,
              thumbprint: thumb,
            },
          },
        ),
      ),
    );
    expect(withCert.auth).toMatchObject({
      credential: { kind: 'certificate', set: true, thumbprint: thumb },
    });
    expect(JSON.stringify(withCert)).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(withCert)).not.toContain('BEGIN CERTIFICATE');

    const withPfx = redactConfig(
      defineConfig(
        entry({}, { credential: { kind: 'pfx', pfxBase64: 'MIIKcanaryAA', passphrase: 'pass-canary' } }),
      ),
    );
    expect(withPfx.auth).toEqual(expect.objectContaining({ credential: { kind: 'pfx', set: true } }));
    expect(JSON.stringify(withPfx)).not.toMatch(/canary/);

    const withPassword = redactConfig(
      defineConfig({
        ...entry({ host: 'mail.example.org' }),
        auth: { type: 'password', password: 'pw-canary' },
      }),
    );
    expect(withPassword.auth).toEqual({ type: 'password', passwordSet: true });
    expect(JSON.stringify(withPassword)).not.toContain('pw-canary');
  });

  it('does not share objects with the input', () => {
    const cfg = defineConfig(entry({ limits: { maxConnections: 2 } }));
    const pub = redactConfig(cfg);
    (pub.limits as { maxConnections: number }).maxConnections = 9;
    expect(cfg.limits?.maxConnections).toBe(2);
  });
});

interface JsonNode {
  required?: string[];
  properties: Record<string, JsonNode>;
  items: JsonNode;
  [key: string]: unknown;
}

describe('configJsonSchema', () => {
  it('describes one entry or a servers list, with descriptions and defaults for editors', () => {
    const schema = configJsonSchema() as { $schema: string; anyOf: JsonNode[] };
    expect(schema.$schema).toContain('json-schema.org');
    const [single, multi] = schema.anyOf;
    expect(single?.required).toEqual(expect.arrayContaining(['name', 'host', 'user', 'auth']));
    expect(single?.properties.port).toMatchObject({ default: 587, minimum: 1, maximum: 65535 });
    expect(single?.properties.$schema).toEqual({ type: 'string' });
    expect(multi?.properties.servers?.items.required).toEqual(expect.arrayContaining(['name', 'host']));
    expect(JSON.stringify(schema)).toContain('private_key_jwt');
  });
});

describe('emailServerConfigSchema', () => {
  it('is a zod schema the UI can use directly', () => {
    expect(emailServerConfigSchema.safeParse(entry()).success).toBe(true);
  });
});

describe('config issues carry a code, so front ends never read the message', () => {
  const codeAt = (input: unknown, path: string) => issuesOf(input).find((i) => i.path === path)?.code;

  it('names generic kinds: required, unknown field, invalid value, out of range', () => {
    expect(codeAt(entry({ user: '' }), 'user')).toBe('REQUIRED');
    expect(codeAt(entry({}, { clientId: '' }), 'auth.clientId')).toBe('REQUIRED');
    expect(codeAt({ ...entry(), extra: 1 }, '')).toBe('UNKNOWN_FIELD');
    expect(codeAt(entry({ security: 'ssl' as never }), 'security')).toBe('INVALID_VALUE');
    expect(codeAt(entry({ port: 70000 }), 'port')).toBe('OUT_OF_RANGE');
    expect(codeAt(entry({ host: 'smtp.office365.com:587' }), 'host')).toBe('INVALID_FORMAT');
    expect(codeAt(entry({ name: 'a\r\nb' }), 'name')).toBe('CONTROL_CHARACTERS');
  });

  it('names each cross-field rule', () => {
    expect(codeAt(entry({ port: 465, security: 'starttls' }), 'security')).toBe('PORT_SECURITY_MISMATCH');
    expect(codeAt(entry({}, { clientId: 'my-app' }), 'auth.clientId')).toBe('CLIENT_ID_NOT_GUID');
    expect(codeAt(entry({}, { scope: 'https://outlook.office365.com/SMTP.Send' }), 'auth.scope')).toBe(
      'SCOPE_NOT_DEFAULT',
    );
    expect(
      codeAt(entry({}, { credential: { kind: 'secret', secret: CLIENT_ID } }), 'auth.credential.secret'),
    ).toBe('SECRET_LOOKS_LIKE_ID');
    expect(
      codeAt(
        entry({}, { tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' }),
        'auth.tokenEndpoint',
      ),
    ).toBe('TENANT_INVALID');
  });
});
