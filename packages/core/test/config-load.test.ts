import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configEnvVariables, configFromEnv, loadConfigFile } from '../src/config/load.js';
import { ConfigError, SmtpOAuthError } from '../src/errors/index.js';
import { makeCertificate, makePfx } from './fixtures/certs.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const SECRET = 'Abc8Q~canary.secret_value';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'core-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (overrides: Record<string, unknown> = {}, auth: Record<string, unknown> = {}) => ({
  name: 'main',
  host: 'smtp.office365.com',
  user: 'noreply@contoso.com',
  auth: {
    type: 'oauth2',
    provider: 'entra',
    tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    clientId: CLIENT_ID,
    scope: 'https://outlook.office365.com/.default',
    credential: { kind: 'secret', secret: 'env:SMTP_SECRET' },
    ...auth,
  },
  ...overrides,
});

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function rejection(p: Promise<unknown>): Promise<SmtpOAuthError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SmtpOAuthError);
    return err as SmtpOAuthError;
  }
  throw new Error('expected a rejection');
}

describe('loadConfigFile', () => {
  it('loads one JSON entry, resolving env: from the env the caller passes', async () => {
    const path = await write('smtp.json', JSON.stringify({ $schema: './schema.json', ...entry() }));
    const { servers, warnings } = await loadConfigFile(path, { env: { SMTP_SECRET: SECRET } });
    expect(servers).toHaveLength(1);
    expect(servers[0]?.auth).toMatchObject({ credential: { kind: 'secret', secret: SECRET } });
    expect(warnings.map((w) => w.code)).toEqual(['CLIENT_SECRET_NOT_RECOMMENDED']);
  });

  it('loads a YAML servers list with warnings prefixed by the entry path', async () => {
    const path = await write(
      'smtp.yaml',
      [
        'servers:',
        '  - name: a',
        '    host: mail.example.org',
        '    user: a@example.org',
        '    auth: { type: password, password: "file:pw.txt" }',
        '  - name: b',
        '    host: smtp.office365.com',
        '    port: 587',
        '    user: b@contoso.com',
        '    auth: { type: password, password: env:PW }',
      ].join('\n'),
    );
    await write('pw.txt', 'from-file\n');
    const { servers, warnings } = await loadConfigFile(path, { env: { PW: 'from-env' } });
    expect(servers.map((s) => s.name)).toEqual(['a', 'b']);
    // The trailing newline of a secret file is not part of the secret.
    expect(servers[0]?.auth).toEqual({ type: 'password', password: 'from-file' });
    expect(servers[1]?.auth).toEqual({ type: 'password', password: 'from-env' });
    expect(warnings).toEqual([
      expect.objectContaining({ path: 'servers.1.auth.type', code: 'PASSWORD_AUTH_DEPRECATED' }),
    ]);
  });

  it('file: on pfxBase64 reads the binary file and base64-encodes it; PEM files stay text', async () => {
    const cert = makeCertificate();
    const pfx = Buffer.from(makePfx(cert, 'pw'), 'base64');
    await write('app.pfx', pfx);
    await write('cert.pem', cert.certificatePem);
    await write('key.pem', cert.privateKeyPem);
    const path = await write(
      'smtp.yaml',
      `servers:\n  - ${JSON.stringify(entry({ name: 'p' }, { credential: { kind: 'pfx', pfxBase64: 'file:app.pfx', passphrase: 'env:PFX_PW' } }))}\n` +
        `  - ${JSON.stringify(entry({ name: 'c' }, { credential: { kind: 'certificate', certificatePem: 'file:cert.pem', privateKeyPem: `file:${join(dir, 'key.pem')}` } }))}\n`,
    );
    const { servers } = await loadConfigFile(path, { env: { PFX_PW: 'pw' } });
    expect(servers[0]?.auth).toMatchObject({
      credential: { kind: 'pfx', pfxBase64: pfx.toString('base64'), passphrase: 'pw' },
    });
    expect(servers[1]?.auth).toMatchObject({
      credential: { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem },
    });
  });

  it('uses the injected readFile for the file and its references', async () => {
    const files: Record<string, string> = {
      '/virtual/smtp.json': JSON.stringify(
        entry({}, { credential: { kind: 'secret', secret: 'file:secret.txt' } }),
      ),
      '/virtual/secret.txt': SECRET,
    };
    const readFile = async (p: string) => {
      const content = files[p];
      if (content === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return new TextEncoder().encode(content);
    };
    const { servers } = await loadConfigFile('/virtual/smtp.json', { readFile });
    expect(servers[0]?.auth).toMatchObject({ credential: { secret: SECRET } });
  });

  it('a missing env variable names the field and the file, never a value', async () => {
    const path = await write('smtp.json', JSON.stringify(entry()));
    const err = await rejection(loadConfigFile(path, { env: {} }));
    expect(err.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(err.message).toBe(
      `auth.credential.secret in ${path}: environment variable SMTP_SECRET is not set`,
    );
    expect(err.details).toEqual({ field: 'auth.credential.secret', source: path });
  });

  it('libraries never read process.env: without env, env: references fail', async () => {
    process.env.SMTP_SECRET_FROM_PROCESS = 'leak';
    try {
      const path = await write(
        'smtp.json',
        JSON.stringify(entry({}, { credential: { kind: 'secret', secret: 'env:SMTP_SECRET_FROM_PROCESS' } })),
      );
      expect((await rejection(loadConfigFile(path))).code).toBe('CONFIG_FILE_UNREADABLE');
    } finally {
      delete process.env.SMTP_SECRET_FROM_PROCESS;
    }
  });

  it('a missing file: reference names the field, the path and the errno', async () => {
    const path = await write(
      'smtp.json',
      JSON.stringify(entry({}, { credential: { kind: 'secret', secret: 'file:nope.txt' } })),
    );
    const err = await rejection(loadConfigFile(path));
    expect(err.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(err.message).toContain('auth.credential.secret');
    expect(err.message).toContain(join(dir, 'nope.txt'));
    expect(err.message).toContain('ENOENT');
  });

  it('a missing config file is CONFIG_FILE_UNREADABLE', async () => {
    const err = await rejection(loadConfigFile(join(dir, 'absent.yaml')));
    expect(err.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(err.message).toContain('absent.yaml');
  });

  it('syntax errors give the position but never the file content', async () => {
    const json = await write('bad.json', `{"secret": "${SECRET}", oops}`);
    const e1 = await rejection(loadConfigFile(json));
    expect(e1.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e1.message).toContain('not valid JSON');
    expect(JSON.stringify(e1)).not.toContain(SECRET);
    const yaml = await write('bad.yaml', `secret: ${SECRET}\n  bad: [indent\n`);
    const e2 = await rejection(loadConfigFile(yaml));
    expect(e2.message).toMatch(/not valid YAML \(line \d+, column \d+\)/);
    expect(JSON.stringify(e2)).not.toContain(SECRET);
  });

  it('validation issues name the entry path and the file', async () => {
    const path = await write(
      'smtp.json',
      JSON.stringify({
        servers: [entry({ name: 'a' }), entry({ name: 'a' }, { scope: 'Mail.Send' }), entry({ name: 'a' })],
      }),
    );
    const err = await rejection(loadConfigFile(path, { env: { SMTP_SECRET: SECRET } }));
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toEqual([
      {
        path: 'servers.1.auth.scope',
        message: expect.stringContaining('<resource>/.default'),
        code: 'SCOPE_NOT_DEFAULT',
      },
      { path: 'servers.2.name', message: 'duplicate name "a"' },
    ]);
    expect(err.message).toContain(path);
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it('refuses an empty servers list and stray top-level keys', async () => {
    const a = await write('a.json', JSON.stringify({ servers: [] }));
    expect(((await rejection(loadConfigFile(a))) as ConfigError).issues[0]?.path).toBe('servers');
    const b = await write('b.json', JSON.stringify({ servers: [entry()], extra: 1 }));
    expect(((await rejection(loadConfigFile(b))) as ConfigError).issues[0]?.message).toContain('"extra"');
  });
});

describe('configFromEnv', () => {
  const base = {
    SMTP_OAUTH_USER: 'noreply@contoso.com',
    SMTP_OAUTH_TENANT: 'contoso.onmicrosoft.com',
    SMTP_OAUTH_CLIENT_ID: CLIENT_ID,
    SMTP_OAUTH_CLIENT_SECRET: SECRET,
  };

  it('builds a Microsoft 365 entry from a tenant with the guide defaults', async () => {
    const { config, warnings } = await configFromEnv(base);
    expect(config).toMatchObject({
      name: 'default',
      host: 'smtp-mail.outlook.com',
      port: 587,
      security: 'starttls',
      user: 'noreply@contoso.com',
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
        scope: 'https://outlook.office365.com/.default',
        credential: { kind: 'secret', secret: SECRET },
      },
    });
    expect(warnings.map((w) => w.code)).toEqual(['CLIENT_SECRET_NOT_RECOMMENDED']);
  });

  it('uses the cloud for GCC High', async () => {
    const { config } = await configFromEnv({ ...base, SMTP_OAUTH_CLOUD: 'usGovernment' });
    expect(config.host).toBe('smtp.office365.us');
    expect(config.auth).toMatchObject({
      tokenEndpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token',
      scope: 'https://outlook.office365.us/.default',
    });
  });

  it('reads all documented variables', async () => {
    const cert = makeCertificate();
    await writeFile(join(dir, 'key.pem'), cert.privateKeyPem);
    const { config } = await configFromEnv(
      {
        SMTP_OAUTH_NAME: 'ops',
        SMTP_OAUTH_HOST: 'smtp.office365.com',
        SMTP_OAUTH_PORT: '587',
        SMTP_OAUTH_SECURITY: 'starttls',
        SMTP_OAUTH_USER: 'noreply@contoso.com',
        SMTP_OAUTH_FROM: 'alerts@contoso.com',
        SMTP_OAUTH_TOKEN_ENDPOINT: 'https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token',
        SMTP_OAUTH_CLIENT_ID: CLIENT_ID,
        SMTP_OAUTH_SCOPE: 'https://outlook.office365.com/.default',
        SMTP_OAUTH_CERTIFICATE: cert.certificatePem,
        SMTP_OAUTH_PRIVATE_KEY: 'file:key.pem',
        SMTP_OAUTH_THUMBPRINT: 'AB'.repeat(20),
        SMTP_OAUTH_MAX_CONNECTIONS: '3',
        SMTP_OAUTH_MESSAGES_PER_MINUTE: '30',
      },
      { baseDir: dir },
    );
    expect(config).toMatchObject({
      name: 'ops',
      from: 'alerts@contoso.com',
      limits: { maxConnections: 3, messagesPerMinute: 30 },
      auth: {
        credential: { kind: 'certificate', privateKeyPem: cert.privateKeyPem, thumbprint: 'AB'.repeat(20) },
      },
    });
  });

  it('supports password auth, a custom prefix and a generic provider', async () => {
    const a = await configFromEnv(
      { APP_SMTP_HOST: 'mail.example.org', APP_SMTP_USER: 'a@example.org', APP_SMTP_PASSWORD: 'pw' },
      { prefix: 'APP_SMTP_' },
    );
    expect(a.config.auth).toEqual({ type: 'password', password: 'pw' });
    const b = await configFromEnv({
      SMTP_OAUTH_HOST: 'smtp.example.org',
      SMTP_OAUTH_USER: 'a@example.org',
      SMTP_OAUTH_TOKEN_ENDPOINT: 'https://idp.example.org/token',
      SMTP_OAUTH_CLIENT_ID: 'app',
      SMTP_OAUTH_SCOPE: 'smtp',
      SMTP_OAUTH_CLIENT_SECRET: 's',
    });
    expect(b.config.auth).toMatchObject({ provider: 'generic', scope: 'smtp' });
  });

  it('errors name the variable', async () => {
    const err = await rejection(
      configFromEnv({ ...base, SMTP_OAUTH_SCOPE: 'Mail.Send', SMTP_OAUTH_PORT: 'abc' }),
    );
    expect((err as ConfigError).issues).toEqual([
      { path: 'port', message: 'SMTP_OAUTH_PORT must be a whole number' },
    ]);
    const err2 = await rejection(configFromEnv({ ...base, SMTP_OAUTH_SCOPE: 'Mail.Send' }));
    expect((err2 as ConfigError).issues[0]).toEqual({
      path: 'auth.scope',
      message: expect.stringMatching(/^\(SMTP_OAUTH_SCOPE\) must be `<resource>\/\.default`/),
      code: 'SCOPE_NOT_DEFAULT',
    });
    const err3 = await rejection(configFromEnv({ ...base, SMTP_OAUTH_TENANT: 'common' }));
    expect(err3.message).toContain('SMTP_OAUTH_TENANT');
    const err4 = await rejection(
      configFromEnv({
        SMTP_OAUTH_TENANT: 'contoso.com',
        SMTP_OAUTH_CLIENT_ID: CLIENT_ID,
        SMTP_OAUTH_CLIENT_SECRET: 'x',
      }),
    );
    expect((err4 as ConfigError).issues).toEqual([
      { path: 'user', message: '(SMTP_OAUTH_USER) is required', code: 'REQUIRED' },
    ]);
    expect(JSON.stringify([err, err2, err3, err4])).not.toContain(SECRET);
  });

  it('documents its variables', () => {
    const names = configEnvVariables.map((v) => v.name);
    for (const n of [
      'SMTP_OAUTH_HOST',
      'SMTP_OAUTH_PORT',
      'SMTP_OAUTH_USER',
      'SMTP_OAUTH_CLIENT_ID',
      'SMTP_OAUTH_CLIENT_SECRET',
      'SMTP_OAUTH_TOKEN_ENDPOINT',
      'SMTP_OAUTH_SCOPE',
      'SMTP_OAUTH_TENANT',
    ])
      expect(names).toContain(n);
  });

  it('reads secret files relative to baseDir', async () => {
    await writeFile(join(dir, 'secret'), `${SECRET}\n`);
    const { config } = await configFromEnv(
      { ...base, SMTP_OAUTH_CLIENT_SECRET: 'file:secret' },
      { baseDir: dir },
    );
    expect(config.auth).toMatchObject({ credential: { secret: SECRET } });
    expect(await readFile(join(dir, 'secret'), 'utf8')).toBe(`${SECRET}\n`);
  });
});
