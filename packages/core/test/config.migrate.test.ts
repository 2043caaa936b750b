// Moving off basic auth (reference §8, §9): the password warning with Microsoft's dates, and the one
// conversion the CLI's `config migrate` and the WebAdmin's "Move to OAuth2" both call.
import { createTestEnvironment } from '@org/testkit';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';
import { cloudOfSmtpHost } from '../src/config/cloud.js';
import { migrateToOAuth2 } from '../src/config/migrate.js';
import { parseConfig } from '../src/config/parse.js';
import { redactConfig } from '../src/config/redact.js';
import { diagnose } from '../src/doctor/index.js';
import { ConfigError } from '../src/errors/smtp-oauth-error.js';

const CLIENT_ID = '3c9e1f7a-6b2d-4e8f-a1c3-5d7e9f0b2a4c';
const TENANT = '8f2c4a1e-3b5d-4c6f-9a7e-1d2b3c4d5e6f';
const PASSWORD = 'Tr0ub4dor&3-basic';

const passwordEntry = {
  name: 'legacy',
  host: 'smtp.office365.com',
  port: 587,
  security: 'starttls' as const,
  user: 'noreply@contoso.com',
  from: 'billing@contoso.com',
  limits: { maxConnections: 2 },
  auth: { type: 'password' as const, password: PASSWORD },
};
const secret = { kind: 'secret' as const, secret: 'env:SMTP_OAUTH_CLIENT_SECRET' };

describe('the basic-auth warning', () => {
  it('names the end of December 2026 for a password entry on a Microsoft host (reference §9)', () => {
    const r = parseConfig(passwordEntry);
    if (!r.ok) throw new Error('invalid');
    const w = r.warnings.find((x) => x.code === 'PASSWORD_AUTH_DEPRECATED');
    expect(w?.message).toContain('Microsoft disables basic SMTP AUTH by default at the end of December 2026');
    expect(w?.message).toMatch(/tenants created after December 2026 do not have it/);
    expect(w?.message).toMatch(/second half of 2027/);
    expect(w?.message).toContain('smtp-oauth config migrate');
  });

  it('says September 2028 for High Volume Email (reference §8)', () => {
    const r = parseConfig({ ...passwordEntry, host: 'smtp-hve.office365.com' });
    if (!r.ok) throw new Error('invalid');
    expect(r.warnings.find((x) => x.code === 'PASSWORD_AUTH_DEPRECATED')?.message).toMatch(
      /High Volume Email keeps basic SMTP AUTH until September 2028/,
    );
  });

  it('is not raised for a non-Microsoft host', () => {
    const r = parseConfig({ ...passwordEntry, host: 'mail.example.org' });
    expect(r.ok && r.warnings).toEqual([]);
  });
});

describe('migrateToOAuth2', () => {
  it('keeps host, port, mailbox, From and limits, drops the password, adds the Entra fields', () => {
    const entry = migrateToOAuth2(passwordEntry, { tenant: TENANT, clientId: CLIENT_ID, credential: secret });
    expect(entry).toEqual({
      name: 'legacy',
      host: 'smtp.office365.com',
      port: 587,
      security: 'starttls',
      user: 'noreply@contoso.com',
      from: 'billing@contoso.com',
      limits: { maxConnections: 2 },
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
        clientId: CLIENT_ID,
        scope: 'https://outlook.office365.com/.default',
        credential: secret,
      },
    });
    expect(JSON.stringify(entry)).not.toContain(PASSWORD);
    const parsed = parseConfig(entry);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.warnings.map((w) => w.code)).toEqual(['CLIENT_SECRET_NOT_RECOMMENDED']);
  });

  it("follows the host's cloud: GCC High and China get their token host and scope", () => {
    expect(cloudOfSmtpHost('smtp.office365.us')).toBe('usGovernment');
    expect(cloudOfSmtpHost('SMTP.PARTNER.OUTLOOK.CN.')).toBe('china');
    expect(cloudOfSmtpHost('smtp-mail.outlook.com')).toBe('global');
    const gcc = migrateToOAuth2(
      { ...passwordEntry, host: 'smtp.office365.us' },
      { tenant: 'contoso.onmicrosoft.us', clientId: CLIENT_ID, credential: secret },
    );
    expect(gcc.auth).toMatchObject({
      tokenEndpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token',
      scope: 'https://outlook.office365.us/.default',
    });
  });

  it('works on the redacted entry an API returns (the WebAdmin has no password to give)', () => {
    const stored = parseConfig(passwordEntry);
    if (!stored.ok) throw new Error('invalid');
    const entry = migrateToOAuth2(redactConfig(stored.config), {
      tenant: 'contoso.onmicrosoft.com',
      clientId: CLIENT_ID,
      credential: { kind: 'secret', secret: 'a-new-secret-value~123' },
      permissionModel: 'rbac',
    });
    expect(entry.auth).toMatchObject({ type: 'oauth2', permissionModel: 'rbac' });
    expect(parseConfig(entry).ok).toBe(true);
  });

  it('refuses what it cannot convert, naming the field', () => {
    const oauth = migrateToOAuth2(passwordEntry, { tenant: TENANT, clientId: CLIENT_ID, credential: secret });
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).code).toBe('CONFIG_INVALID');
        return (e as ConfigError).issues.map((i) => i.path);
      }
      throw new Error('not refused');
    };
    expect(
      refused(() =>
        migrateToOAuth2(oauth as never, { tenant: TENANT, clientId: CLIENT_ID, credential: secret }),
      ),
    ).toEqual(['auth.type']);
    expect(refused(() => migrateToOAuth2(passwordEntry, { clientId: 'my-app', credential: secret }))).toEqual(
      ['tenant', 'clientId'],
    );
    expect(
      refused(() =>
        migrateToOAuth2(passwordEntry, { tenant: 'common', clientId: CLIENT_ID, credential: secret }),
      ),
    ).toEqual(['tenant']);
  });

  it('the converted entry authenticates against the testkit and the doctor passes', async () => {
    const env = await createTestEnvironment();
    try {
      const legacy = {
        name: 'legacy',
        host: env.smtp.host,
        port: env.smtp.port,
        user: env.mailbox,
        tls: { ca: env.caPem },
        auth: { type: 'password' as const, password: PASSWORD },
      };
      const entry = migrateToOAuth2(legacy, {
        tokenEndpoint: env.tokenEndpoint,
        clientId: env.clientId,
        credential: { kind: 'secret', secret: env.clientSecret },
      });
      const result = await diagnose(entry, { sendTestTo: env.mailbox });
      expect(result.ok, result.summary).toBe(true);
      expect(env.messages()).toHaveLength(1);
      expect(env.authAttempts().at(-1)).toMatchObject({ ok: true, mechanism: 'XOAUTH2' });
    } finally {
      await env.close();
    }
  });
});

describe('permissionModel in the JSON Schema', () => {
  it("offers 'mailbox' and 'rbac' for editors", () => {
    const text = JSON.stringify(configJsonSchema());
    expect(text).toMatch(
      /"permissionModel":\{"description":"How Exchange Online authorizes the app[^}]*"default":"mailbox","type":"string","enum":\["mailbox","rbac"\]\}/,
    );
  });
});

describe('certificate thumbprints, the way MSAL recommends', () => {
  const entry = (thumbprint: string) => ({
    name: 'cert',
    host: 'smtp.office365.com',
    user: 'noreply@contoso.com',
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
      clientId: CLIENT_ID,
      scope: 'https://outlook.office365.com/.default',
      credential: {
        kind: 'certificate',
        certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
        privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
        thumbprint,
      },
    },
  });
  const codes = (input: unknown) => {
    const r = parseConfig(input);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.warnings.map((w) => w.code);
  };

  it('accepts a SHA-1 thumbprint with a note that MSAL deprecates it; SHA-256 has no note', () => {
    expect(codes(entry('84:E0:5C:1D:5B:2A:7F:3E:9C:1D:0A:4B:6E:8F:2C:5D:7A:9B:1E:3F'))).toEqual([
      'SHA1_THUMBPRINT_DEPRECATED',
    ]);
    const r = parseConfig(entry('84E05C1D5B2A7F3E9C1D0A4B6E8F2C5D7A9B1E3F'));
    expect(r.ok && r.warnings[0]?.message).toMatch(/MSAL deprecates SHA-1 certificate thumbprints \(x5t\)/);
    expect(codes(entry('5B2A7F3E9C1D0A4B6E8F2C5D7A9B1E3F84E05C1D5B2A7F3E9C1D0A4B6E8F2C5D'))).toEqual([]);
  });
});

describe('SMTP_OAUTH_PERMISSION_MODEL', () => {
  const base = {
    SMTP_OAUTH_TENANT: TENANT,
    SMTP_OAUTH_CLIENT_ID: CLIENT_ID,
    SMTP_OAUTH_CLIENT_SECRET: 'a-secret-value~1',
    SMTP_OAUTH_USER: 'noreply@contoso.com',
  };
  it('sets auth.permissionModel from the environment, and names the variable when it is wrong', async () => {
    const { configFromEnv } = await import('../src/config/load.js');
    expect((await configFromEnv({ ...base, SMTP_OAUTH_PERMISSION_MODEL: 'rbac' })).config.auth).toMatchObject(
      {
        permissionModel: 'rbac',
      },
    );
    expect((await configFromEnv(base)).config.auth).not.toHaveProperty('permissionModel');
    await expect(configFromEnv({ ...base, SMTP_OAUTH_PERMISSION_MODEL: 'both' })).rejects.toMatchObject({
      issues: [
        { path: 'auth.permissionModel', message: expect.stringContaining('SMTP_OAUTH_PERMISSION_MODEL') },
      ],
    });
  });
});
