import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EmailServer } from '../src/api/client.js';
import {
  emptyForm,
  formFromServer,
  pemThumbprints,
  phraseIssue,
  readPemFile,
  readPfxFile,
  splitPemBundle,
  useServerEditor,
} from '../src/server-editor/index.js';
import { normalizeThumbprint } from '@org/core/config';

const TENANT = '8f0c1f2e-3d4b-4a5c-9e6f-7a8b9c0d1e2f';
const CLIENT = '11111111-2222-3333-4444-555555555555';

function filledEditor() {
  const e = useServerEditor();
  e.selectPreset('microsoft365');
  e.setTenant('contoso.onmicrosoft.com');
  Object.assign(e.form, {
    name: 'main',
    user: 'noreply@contoso.com',
    clientId: CLIENT,
    secret: 'abc8Q~secret-value',
  });
  return e;
}

function storedEntry(auth: EmailServer['config']['auth'], extra: Partial<EmailServer> = {}): EmailServer {
  return {
    id: 'srv_1',
    name: 'main',
    isDefault: true,
    config: {
      name: 'main',
      host: 'smtp-mail.outlook.com',
      port: 587,
      security: 'starttls',
      user: 'noreply@contoso.com',
      auth,
    },
    clientSecretSet: false,
    passwordSet: false,
    certificate: null,
    certificateProblem: null,
    lastTest: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

const secretEntry = () =>
  storedEntry(
    {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
      clientId: CLIENT,
      scope: 'https://outlook.office365.com/.default',
      credential: { kind: 'secret', clientSecretSet: true },
    },
    { clientSecretSet: true },
  );

describe('presets', () => {
  it('Microsoft 365 fills SMTP server, port, STARTTLS and scope; the tenant fills the token endpoint', () => {
    const e = useServerEditor();
    e.selectPreset('microsoft365');
    expect(e.form).toMatchObject({
      host: 'smtp-mail.outlook.com',
      port: 587,
      security: 'starttls',
      scope: 'https://outlook.office365.com/.default',
      tokenEndpoint: '',
    });
    e.setTenant(TENANT);
    expect(e.form.tokenEndpoint).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
    e.setTenant('contoso.onmicrosoft.com');
    expect(e.form.tokenEndpoint).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    );
  });

  it('national clouds use their own login host, scope and SMTP server', () => {
    const e = useServerEditor();
    e.setTenant(TENANT);
    e.selectPreset('microsoft365Gcc');
    expect(e.form).toMatchObject({
      host: 'smtp.office365.us',
      scope: 'https://outlook.office365.us/.default',
      tokenEndpoint: `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`,
    });
    e.selectPreset('microsoft365China');
    expect(e.form).toMatchObject({
      host: 'smtp.partner.outlook.cn',
      scope: 'https://partner.outlook.cn/.default',
      tokenEndpoint: `https://login.partner.microsoftonline.cn/${TENANT}/oauth2/v2.0/token`,
    });
  });

  it('a tenant core refuses (common) leaves the token endpoint alone and is reported on the tenant field', () => {
    const e = useServerEditor();
    e.setTenant('common');
    expect(e.form.tokenEndpoint).toBe('');
    e.prepareSubmit();
    expect(e.errorFor('tenant')).toMatch(/cannot be used with client credentials/);
  });

  it('"Other OAuth2 provider" clears what the Microsoft preset filled and keeps what the admin typed', () => {
    const e = useServerEditor();
    e.setTenant(TENANT);
    e.form.host = 'smtp.example.org';
    e.selectPreset('generic');
    expect(e.form).toMatchObject({ host: 'smtp.example.org', scope: '', tokenEndpoint: '' });
    const typed = useServerEditor();
    typed.setTenant(TENANT);
    typed.selectPreset('generic');
    expect(typed.form.host).toBe('');
  });

  it('an existing entry opens with its preset and tenant recognised from the token endpoint', () => {
    const form = formFromServer(secretEntry());
    expect(form).toMatchObject({
      preset: 'microsoft365',
      tenant: TENANT,
      credentialKind: 'secret',
      secret: '',
    });
  });
});

describe('validation comes from core’s schema', () => {
  it('a complete Microsoft 365 entry is valid and the payload is core’s config shape', () => {
    const e = filledEditor();
    const payload = e.prepareSubmit();
    expect(e.issues.value).toEqual([]);
    expect(payload).toMatchObject({
      name: 'main',
      host: 'smtp-mail.outlook.com',
      port: 587,
      security: 'starttls',
      auth: {
        type: 'oauth2',
        provider: 'entra',
        clientId: CLIENT,
        scope: 'https://outlook.office365.com/.default',
        credential: { kind: 'secret', secret: 'abc8Q~secret-value' },
      },
    });
  });

  it('messages carry core’s fix, phrased with the field label, and appear once the field was left', () => {
    const e = filledEditor();
    e.form.clientId = 'my-app';
    expect(e.errorFor('auth.clientId')).toBeUndefined();
    e.touch('auth.clientId');
    expect(e.errorFor('auth.clientId')).toMatch(/^Client ID must be the Application \(client\) ID, a GUID/);

    e.form.clientId = '11111111-2222-3333-4444-555555555555';
    // Regression: a Graph scope blocked saving; it is a warning (amber) and the save goes through.
    e.form.scope = 'https://graph.microsoft.com/.default';
    e.touch('auth.scope');
    expect(e.errorFor('auth.scope')).toBeUndefined();
    expect(e.warningFor('auth.scope')).toMatch(
      /Microsoft Graph scope.*Use https:\/\/outlook\.office365\.com\/\.default/,
    );
    expect(e.prepareSubmit()).toBeDefined();
    e.form.scope = 'https://outlook.office365.com/.default';

    e.form.security = 'tls';
    e.touch('security');
    expect(e.errorFor('security')).toMatch(/port 587 speaks STARTTLS/);
  });

  it('a secret ID (GUID) pasted instead of the secret Value is caught with the fix', () => {
    const e = filledEditor();
    e.form.secret = '9a8b7c6d-1111-2222-3333-444455556666';
    e.prepareSubmit();
    expect(e.errorFor('auth.credential.secret')).toMatch(/secret's ID.*use the secret's Value/);
  });

  it('required fields say what to enter', () => {
    const e = useServerEditor();
    expect(e.prepareSubmit()).toBeUndefined();
    expect(e.errorFor('name')).toBe('Name is required');
    expect(e.errorFor('user')).toBe('User (mailbox) is required');
    expect(e.errorFor('auth.clientId')).toBe('Client ID is required: the Application (client) ID');
    expect(e.errorFor('auth.credential.secret')).toBe('Client secret is required: the client secret Value');
    expect(e.errorFor('tenant')).toMatch(/^Tenant is required/);
  });

  it('password auth on a Microsoft host warns about the deprecation, even before the entry is complete', () => {
    const e = useServerEditor();
    e.form.authType = 'password';
    expect(e.warnings.value.map((w) => w.code)).toEqual(['PASSWORD_AUTH_DEPRECATED']);
    e.form.host = 'smtp.example.org';
    expect(e.warnings.value).toEqual([]);
  });

  it('server issues show under their field until the field changes', () => {
    const e = filledEditor();
    e.setServerIssues([{ path: 'auth.credential.thumbprint', message: 'does not match the certificate' }]);
    expect(e.errorFor('auth.credential.thumbprint')).toBe('Thumbprint does not match the certificate');
    e.touch('auth.credential.thumbprint');
    expect(e.errorFor('auth.credential.thumbprint')).toBeUndefined();
  });
});

describe('write-only credentials', () => {
  it('a stored secret is never in the form; saving without a new one keeps it (no secret in the payload)', () => {
    const e = useServerEditor(secretEntry());
    expect(e.form.secret).toBe('');
    expect(e.credentialStored.value).toBe(true);
    const payload = e.prepareSubmit() as { auth: { credential: Record<string, unknown> } };
    expect(e.issues.value).toEqual([]);
    expect(payload.auth.credential).toEqual({ kind: 'secret' });
  });

  it('replacing the secret sends the new value; the stand-in used for validation never leaves', () => {
    const e = useServerEditor(secretEntry());
    e.startReplace();
    e.form.secret = 'new8Q~value';
    const payload = e.prepareSubmit() as { auth: { credential: Record<string, unknown> } };
    expect(payload.auth.credential).toEqual({ kind: 'secret', secret: 'new8Q~value' });
    expect(JSON.stringify(e.prepareSubmit())).not.toMatch(/stored-secret-kept/);
  });

  it('after saving, the typed secret is dropped from the form', () => {
    const e = filledEditor();
    const payload = e.prepareSubmit() as EmailServer['config'];
    // What the server answers: the entry as saved, its secret redacted.
    const auth = {
      ...payload.auth,
      credential: { kind: 'secret', clientSecretSet: true },
    } as EmailServer['config']['auth'];
    e.saved({ ...secretEntry(), config: { ...payload, auth } });
    expect(e.form.secret).toBe('');
    expect(e.credentialStored.value).toBe(true);
  });

  it('switching from a stored secret to a certificate requires the certificate and key', () => {
    const e = useServerEditor(secretEntry());
    e.form.credentialKind = 'certificate';
    expect(e.credentialStored.value).toBe(false);
    e.prepareSubmit();
    expect(e.errorFor('auth.credential.certificatePem')).toMatch(
      /^Certificate must be PEM text starting with -----BEGIN CERTIFICATE-----/,
    );
    expect(e.errorFor('auth.credential.privateKeyPem')).toMatch(/^Private key must be PEM text/);
  });

  it('a stored certificate is kept unless both parts are uploaded again; a typed thumbprint is sent for checking', () => {
    const e = useServerEditor(
      storedEntry(
        {
          type: 'oauth2',
          provider: 'entra',
          tokenEndpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
          clientId: CLIENT,
          scope: 'https://outlook.office365.com/.default',
          credential: { kind: 'certificate', set: true },
        },
        {
          certificate: {
            subject: 'CN=sender',
            issuer: 'CN=sender',
            thumbprint: 'AB'.repeat(20),
            thumbprintSha256: 'CD'.repeat(32),
            notBefore: '2026-01-01T00:00:00.000Z',
            notAfter: '2027-01-01T00:00:00.000Z',
            daysUntilExpiry: 300,
          },
        },
      ),
    );
    expect(e.credentialStored.value).toBe(true);
    e.form.thumbprint = 'ab:'.repeat(19).concat('ab');
    const payload = e.prepareSubmit() as { auth: { credential: Record<string, unknown> } };
    expect(payload.auth.credential).toEqual({ kind: 'certificate', thumbprint: e.form.thumbprint });
    e.form.certificatePem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    e.prepareSubmit();
    expect(e.errorFor('auth.credential.privateKeyPem')).toMatch(/PEM text/);
  });

  // Regression (issue 13 §1): the form kept a stored secret while the SMTP host or port changed.
  it('a changed destination asks for the stored secret again before saving', () => {
    const e = useServerEditor(secretEntry());
    e.form.host = 'smtp.office365.com';
    expect(e.credentialStored.value).toBe(false);
    expect(e.prepareSubmit()).toBeUndefined();
    expect(e.errorFor('auth.credential.secret')).toMatch(/must be entered again: host changed/);
    e.form.secret = 'new8Q~value';
    expect(e.prepareSubmit()).toMatchObject({ host: 'smtp.office365.com' });

    const p = useServerEditor(storedEntry({ type: 'password', passwordSet: true }, { passwordSet: true }));
    p.form.port = 2525;
    expect(p.prepareSubmit()).toBeUndefined();
    expect(p.errorFor('auth.password')).toMatch(/must be entered again: port changed/);
  });

  it('a stored password is kept when the field is left empty', () => {
    const e = useServerEditor(storedEntry({ type: 'password', passwordSet: true }, { passwordSet: true }));
    const payload = e.prepareSubmit() as { auth: Record<string, unknown> };
    expect(payload.auth).toEqual({ type: 'password' });
  });
});

describe('files and helpers', () => {
  it('reads PEM and PFX files', async () => {
    await expect(readPemFile(new Blob(['-----BEGIN CERTIFICATE-----\nx\n']))).resolves.toContain('BEGIN');
    await expect(readPemFile(new Blob([new Uint8Array([0x30, 0x82])]))).rejects.toThrow(/not PEM/);
    await expect(readPfxFile(new Blob([new Uint8Array([0x30, 0x82, 0x01])]))).resolves.toBe('MIIB');
  });

  it('previews the thumbprints of a PEM certificate as Entra shows them (checked here against node:crypto)', async () => {
    // Public certificate only (its key was discarded when the fixture was made).
    const pem = readFileSync(new URL('./fixtures/sender-cert.pem', import.meta.url), 'utf8');
    const x509 = new X509Certificate(pem);
    await expect(pemThumbprints(pem)).resolves.toEqual({
      sha1: x509.fingerprint.replace(/:/g, ''),
      sha256: x509.fingerprint256.replace(/:/g, ''),
    });
    await expect(pemThumbprints('not a certificate')).resolves.toBeUndefined();
  });

  it('splits a PEM bundle into certificate and key', () => {
    const both = splitPemBundle(
      '-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----\n',
    );
    expect(both.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----\nc\n/);
    expect(both.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\nk\n/);
  });

  it('normalises thumbprints and phrases messages', () => {
    expect(normalizeThumbprint('ab:cd ef')).toBe('ABCDEF');
    expect(phraseIssue('host', 'must not include the port; set `port` separately')).toBe(
      'SMTP server must not include the port; set `port` separately',
    );
    expect(phraseIssue('security', 'port 465 expects implicit TLS')).toBe('Port 465 expects implicit TLS');
    expect(emptyForm('generic').host).toBe('');
  });
});

describe('permission model', () => {
  // Regression: an RBAC entry edited in the WebAdmin lost auth.permissionModel on save.
  it("keeps an entry's permissionModel through edit and save, and can set it", () => {
    const stored = secretEntry();
    if (stored.config.auth.type === 'oauth2') stored.config.auth.permissionModel = 'rbac';
    const e = useServerEditor(stored);
    expect(e.form.permissionModel).toBe('rbac');
    const payload = e.prepareSubmit() as { auth: Record<string, unknown> };
    expect(e.issues.value).toEqual([]);
    expect(payload.auth.permissionModel).toBe('rbac');

    const plain = useServerEditor(secretEntry());
    expect(plain.form.permissionModel).toBe('');
    expect((plain.prepareSubmit() as { auth: Record<string, unknown> }).auth).not.toHaveProperty(
      'permissionModel',
    );
    plain.form.permissionModel = 'rbac';
    expect((plain.prepareSubmit() as { auth: Record<string, unknown> }).auth.permissionModel).toBe('rbac');
  });
});
