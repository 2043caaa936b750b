import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientCertificate } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { output, runCli } from './helpers.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '66666666-7777-8888-9999-000000000000';
const CANARY = 'Canary~Secret-Value-0123456789abcdefghij';

let dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'smtp-oauth-cli-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('smtp-oauth: version, help, usage', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version'], { cwd: tempDir() });
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('--help documents the commands and the stable exit codes', async () => {
    const r = await runCli(['--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    for (const cmd of ['send', 'doctor', 'token', 'config', 'sandbox'])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/^ {2}2 {2}usage or configuration error/m);
    expect(r.stdout).toMatch(/^ {2}3 {2}authentication\/authorization error/m);
    expect(r.stdout).toMatch(/^ {2}4 {2}transient failure/m);
    expect(r.stdout).toMatch(/^ {2}5 {2}permanent failure/m);
  });

  it('<command> --help shows the command’s options', async () => {
    const r = await runCli(['send', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--batch FILE');
    expect(r.stdout).toContain('--attach FILE');
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const cwd = tempDir();
    expect((await runCli(['frobnicate'], { cwd })).code).toBe(2);
    const r = await runCli(['doctor', '--bogus'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it('no configuration anywhere → exit 2 with how to create one', async () => {
    const r = await runCli(['doctor'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No configuration found.');
    expect(r.stderr).toContain('smtp-oauth config init');
  });

  it('--json errors are one JSON document with the exit code', async () => {
    const r = await runCli(['token', '--json'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 2 });
  });
});

describe('smtp-oauth config', () => {
  const initArgs = (out: string) => [
    'config',
    'init',
    '--yes',
    '--preset',
    'microsoft365',
    '--tenant',
    TENANT,
    '--client-id',
    CLIENT,
    '--mailbox',
    'noreply@contoso.com',
    '--output',
    out,
  ];

  it('init (non-interactive) writes a secret reference, never the secret itself', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'smtp-oauth.config.json');
    const r = await runCli(initArgs(file), { cwd, env: { SMTP_OAUTH_CLIENT_SECRET: CANARY } });
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain(`wrote ${file}`);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toEqual({
      name: 'default',
      host: 'smtp-mail.outlook.com',
      port: 587,
      security: 'starttls',
      user: 'noreply@contoso.com',
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
        clientId: CLIENT,
        scope: 'https://outlook.office365.com/.default',
        credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' },
      },
    });
    expect(readFileSync(file, 'utf8')).not.toContain(CANARY);
    expect(output(r)).not.toContain(CANARY);
    // The written file validates through core, resolving the reference.
    const v = await runCli(['config', 'validate', '--config', file], {
      cwd,
      env: { SMTP_OAUTH_CLIENT_SECRET: CANARY },
    });
    expect(v.code, output(v)).toBe(0);
    expect(v.stdout).toContain('default valid');
  });

  it('init tells which secret variable still has to be set, and refuses to overwrite without --force', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'c.json');
    const r = await runCli([...initArgs(file), '--json'], { cwd });
    expect(r.code, output(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      path: file,
      unsetVariables: ['SMTP_OAUTH_CLIENT_SECRET'],
      inlineSecrets: false,
    });
    const again = await runCli(initArgs(file), { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('pass --force to overwrite it');
    expect((await runCli([...initArgs(file), '--force'], { cwd })).code).toBe(0);
  });

  it('init --inline-secrets writes the value into a 0600 file but never prints it', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'inline.json');
    const r = await runCli([...initArgs(file), '--inline-secrets'], {
      cwd,
      env: { SMTP_OAUTH_CLIENT_SECRET: CANARY },
    });
    expect(r.code, output(r)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).auth.credential.secret).toBe(CANARY);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(output(r)).not.toContain(CANARY);
  });

  it('init with a certificate stores file: references that core resolves', async () => {
    const cwd = tempDir();
    const cert = createClientCertificate();
    writeFileSync(join(cwd, 'cert.pem'), cert.certificatePem);
    writeFileSync(join(cwd, 'key.pem'), cert.privateKeyPem);
    const file = join(cwd, 'smtp-oauth.config.json');
    const args = [
      ...initArgs(file),
      '--credential',
      'certificate',
      '--certificate',
      'cert.pem',
      '--private-key',
      'key.pem',
    ];
    const r = await runCli(args, { cwd });
    expect(r.code, output(r)).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.auth.credential).toEqual({
      kind: 'certificate',
      certificatePem: 'file:./cert.pem',
      privateKeyPem: 'file:./key.pem',
      // New certificate entries name the certificate by its SHA-256 thumbprint (MSAL's x5t#S256).
      thumbprint: cert.thumbprintSha256,
    });
    expect(readFileSync(file, 'utf8')).not.toContain('PRIVATE KEY');
    const show = await runCli(['config', 'show', '--json'], { cwd });
    expect(show.code, output(show)).toBe(0);
    expect(JSON.parse(show.stdout).config.auth.credential).toEqual({
      kind: 'certificate',
      set: true,
      thumbprint: cert.thumbprintSha256,
    });
    expect(output(show)).not.toContain('PRIVATE KEY');
  });

  it('init with a missing certificate file fails naming the field (exit 2)', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'c.json');
    const r = await runCli(
      [
        ...initArgs(file),
        '--credential',
        'certificate',
        '--certificate',
        'nope.pem',
        '--private-key',
        'nope.key',
      ],
      { cwd },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_FILE_UNREADABLE');
    expect(r.stderr).toMatch(/auth\.credential\.(certificatePem|privateKeyPem) in .*: cannot read/);
  });

  it('init with an invalid tenant fails with the field and the fix (exit 2), writing nothing', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'bad.json');
    const args = initArgs(file);
    args[args.indexOf(TENANT)] = 'common';
    const r = await runCli(args, { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tenant');
    expect(r.stderr).toContain('cannot be used with client credentials');
  });

  it('validate with a bad scope names the field and the fix (exit 2)', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'smtp-oauth.config.json');
    await runCli(initArgs(file), { cwd });
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.auth.scope = 'Mail.Send';
    writeFileSync(file, JSON.stringify(config));
    // Found through discovery in the working directory.
    const r = await runCli(['config', 'validate'], { cwd, env: { SMTP_OAUTH_CLIENT_SECRET: CANARY } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toMatch(
      /auth\.scope: must be `<resource>\/\.default` for client credentials, e.g\. https:\/\/outlook\.office365\.com\/\.default/,
    );
    const json = await runCli(['config', 'validate', '--json'], {
      cwd,
      env: { SMTP_OAUTH_CLIENT_SECRET: CANARY },
    });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.details.issues).toContainEqual({
      path: 'auth.scope',
      message: expect.stringContaining('/.default'),
      code: 'SCOPE_NOT_DEFAULT',
    });
  });

  it('show redacts the secret (file, SMTP_OAUTH_CONFIG, and env-var configs)', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'elsewhere.json');
    await runCli(initArgs(file), { cwd });
    const env = { SMTP_OAUTH_CLIENT_SECRET: CANARY, SMTP_OAUTH_CONFIG: file };
    const r = await runCli(['config', 'show'], { cwd, env });
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain('"clientSecretSet": true');
    expect(output(r)).not.toContain(CANARY);
    const j = await runCli(['config', 'show', '--json'], { cwd, env });
    expect(JSON.parse(j.stdout).config.auth.credential).toEqual({ kind: 'secret', clientSecretSet: true });
    const fromEnv = await runCli(['config', 'show', '--json'], {
      cwd,
      env: {
        SMTP_OAUTH_TENANT: TENANT,
        SMTP_OAUTH_CLIENT_ID: CLIENT,
        SMTP_OAUTH_USER: 'noreply@contoso.com',
        SMTP_OAUTH_CLIENT_SECRET: CANARY,
      },
    });
    expect(fromEnv.code, output(fromEnv)).toBe(0);
    expect(JSON.parse(fromEnv.stdout).source).toBe('environment (SMTP_OAUTH_*)');
    expect(output(fromEnv)).not.toContain(CANARY);
  });

  it('a file with several entries needs --server NAME', async () => {
    const cwd = tempDir();
    const one = join(cwd, 'one.json');
    await runCli(initArgs(one), { cwd });
    const entry = JSON.parse(readFileSync(one, 'utf8'));
    const file = join(cwd, 'smtp-oauth.config.json');
    writeFileSync(
      file,
      JSON.stringify({ servers: [entry, { ...entry, name: 'backup', user: 'backup@contoso.com' }] }),
    );
    const env = { SMTP_OAUTH_CLIENT_SECRET: CANARY };
    const ambiguous = await runCli(['config', 'show'], { cwd, env });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('choose one with --server (default, backup)');
    const chosen = await runCli(['--server', 'backup', 'config', 'show', '--json'], { cwd, env });
    expect(chosen.code, output(chosen)).toBe(0);
    expect(JSON.parse(chosen.stdout).config.user).toBe('backup@contoso.com');
    const validate = await runCli(['config', 'validate'], { cwd, env });
    expect(validate.stdout).toContain('default, backup valid');
  });

  it('schema prints the JSON Schema', async () => {
    const r = await runCli(['config', 'schema'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain('json-schema.org');
    expect(JSON.stringify(schema)).toContain('tokenEndpoint');
  });

  it('output is plain on pipes: no colour escapes', async () => {
    const cwd = tempDir();
    const r = await runCli(['config', 'validate', '--config', join(cwd, 'missing.json')], { cwd });
    expect(r.code).toBe(2);
    expect(output(r)).not.toContain('\u001b[');
  });
});
