// `smtp-oauth config migrate` (moving off basic auth, reference §8–§9) and SHA-256 certificate
// entries from `config init`, run as child processes against the testkit.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type CliResult, output, runCli } from './helpers.js';

const PASSWORD = 'hunter2-basic-canary';

let env: TestEnvironment | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await env?.close();
  env = undefined;
  dir = undefined;
});

async function setup(options: Parameters<typeof createTestEnvironment>[0] = {}) {
  env = await createTestEnvironment(options);
  dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-migrate-'));
  const d = dir;
  const write = (name: string, content: string) => {
    writeFileSync(join(d, name), content);
    return join(d, name);
  };
  write('ca.pem', env.caPem);
  write('cert.pem', env.certificate.certificatePem);
  write('key.pem', env.certificate.privateKeyPem);
  const legacy = {
    name: 'legacy',
    host: env.smtp.host,
    port: env.smtp.port,
    security: 'starttls',
    user: env.mailbox,
    auth: { type: 'password', password: 'env:SMTP_PASSWORD' },
  };
  return { e: env, dir: d, write, legacy, ca: join(d, 'ca.pem') };
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`, as a user would. */
function runOnTerminal(args: string[], options: { cwd: string; env: Record<string, string>; input: string }) {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn('script', ['-qec', quoted, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: options.cwd, TERM: 'dumb', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // Typed ahead: the prompter queues lines that arrive before their question.
    child.stdin.write(options.input);
  });
}

describe('smtp-oauth config migrate', () => {
  it('turns a password entry into an OAuth2 entry from flags, keeps host, port and mailbox, then runs the doctor', async () => {
    const { e, dir, write, legacy, ca } = await setup();
    const file = write('smtp-oauth.config.json', JSON.stringify(legacy, null, 2));
    const r = await runCli(
      [
        'config',
        'migrate',
        '--config',
        file,
        '--ca',
        ca,
        '--token-endpoint',
        e.tokenEndpoint,
        '--client-id',
        e.clientId,
        '--yes',
      ],
      { cwd: dir, env: { SMTP_OAUTH_CLIENT_SECRET: e.clientSecret, SMTP_PASSWORD: PASSWORD } },
    );
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain(`moved "legacy" to OAuth2 in ${file}; the password is no longer in it`);
    expect(r.stdout).toContain('All checks passed');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toEqual({
      name: 'legacy',
      host: e.smtp.host,
      port: e.smtp.port,
      security: 'starttls',
      user: e.mailbox,
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: e.tokenEndpoint,
        clientId: e.clientId,
        scope: 'https://outlook.office365.com/.default',
        credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' },
      },
    });
    expect(output(r)).not.toContain(e.clientSecret);
    // The doctor really authenticated with the new entry.
    expect(e.authAttempts().at(-1)).toMatchObject({ ok: true, mechanism: 'XOAUTH2' });
  });

  it('asks only for the tenant-side values on a terminal, writes SHA-256 for a certificate, keeps YAML comments and the other entries', async () => {
    const { e, dir, write, legacy, ca } = await setup();
    const other = { name: 'other', host: 'mail.example.org', user: 'x@example.org', auth: { type: 'none' } };
    const file = write(
      'smtp.yaml',
      [
        '# our mail servers',
        'servers:',
        `  - name: ${legacy.name}`,
        `    host: ${legacy.host}`,
        `    port: ${legacy.port}`,
        '    security: starttls',
        `    user: ${legacy.user}`,
        '    auth: { type: password, password: "env:SMTP_PASSWORD" }',
        '  # a relay, untouched',
        `  - name: ${other.name}`,
        `    host: ${other.host}`,
        `    user: ${other.user}`,
        '    auth:',
        '      type: none',
        '',
      ].join('\n'),
    );
    // Answers: client id, credential (2 = certificate), certificate file, key file.
    const r = await runOnTerminal(
      [
        'config',
        'migrate',
        '--config',
        file,
        '--ca',
        ca,
        '--token-endpoint',
        e.tokenEndpoint,
        '--send-test-to',
        e.mailbox,
      ],
      { cwd: dir, env: { SMTP_PASSWORD: PASSWORD }, input: `${e.clientId}\n2\ncert.pem\nkey.pem\n` },
    );
    expect(r.code, output(r)).toBe(0);
    const shown = output(r);
    expect(shown).toContain('Application (client) ID');
    expect(shown).toContain('Certificate PEM file');
    expect(shown).not.toMatch(/mailbox that sends|SMTP host|Default From/); // kept, not asked
    expect(shown).toContain('All checks passed');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# our mail servers');
    expect(text).toContain('# a relay, untouched');
    expect(text).not.toContain('password');
    expect(text).toContain(`thumbprint: ${e.certificate.thumbprintSha256}`);
    expect(text).toContain('certificatePem: file:./cert.pem');
    expect(text).toContain(
      '  # a relay, untouched\n  - name: other\n    host: mail.example.org\n    user: x@example.org\n    auth:\n      type: none\n',
    );
    // PS256 with x5t#S256, as MSAL recommends; the test message went through.
    expect(e.tokenRequests().at(-1)).toMatchObject({ authMethod: 'assertion-ps256', outcome: 'issued' });
    expect(e.messages()).toHaveLength(1);
  });

  it('keeps the permissions of the rewritten file and writes permissionModel for an RBAC tenant', async () => {
    const { e, dir, write, legacy, ca } = await setup({ permissionModel: 'rbac' });
    const file = write('c.json', JSON.stringify(legacy));
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o600);
    const r = await runCli(
      [
        'config',
        'migrate',
        '--config',
        file,
        '--ca',
        ca,
        '--token-endpoint',
        e.tokenEndpoint,
        '--client-id',
        e.clientId,
        '--permission-model',
        'rbac',
        '--json',
      ],
      { cwd: dir, env: { SMTP_OAUTH_CLIENT_SECRET: e.clientSecret } },
    );
    expect(r.code, output(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, path: file, server: 'legacy', exitCode: 0 });
    expect(doc.doctor.steps.find((s: { id: string }) => s.id === 'claims').status).toBe('ok');
    expect(JSON.parse(readFileSync(file, 'utf8')).auth.permissionModel).toBe('rbac');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses clearly: no password entry, a missing client id, an unknown permission model', async () => {
    const { e, dir, write, legacy } = await setup();
    const oauth = write('oauth.json', JSON.stringify(e.config));
    const none = await runCli(['config', 'migrate', '--config', oauth, '--yes'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no password entry; nothing to move to OAuth2');

    const file = write('legacy.json', JSON.stringify(legacy));
    const before = readFileSync(file, 'utf8');
    const missing = await runCli(['config', 'migrate', '--config', file, '--tenant', e.tenantId, '--yes'], {
      cwd: dir,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--client-id is required');
    const model = await runCli(['config', 'migrate', '--config', file, '--permission-model', 'both'], {
      cwd: dir,
    });
    expect(model.code).toBe(2);
    expect(model.stderr).toContain("--permission-model must be 'mailbox' or 'rbac'");
    const badId = await runCli(
      ['config', 'migrate', '--config', file, '--tenant', 'common', '--client-id', 'my-app', '--yes'],
      { cwd: dir },
    );
    expect(badId.code).toBe(2);
    expect(output(badId)).toMatch(/tenant: tenant "common" cannot be used with client credentials/);
    expect(output(badId)).toMatch(/clientId: must be the Application \(client\) ID/);
    expect(readFileSync(file, 'utf8')).toBe(before); // nothing written on refusal
    const wrong = await runCli(['config', 'validate', '--permission-model', 'rbac'], { cwd: dir });
    expect(wrong.stderr).toContain('--permission-model is an option of `config migrate`');
  });
});

describe('smtp-oauth config init with a certificate', () => {
  it('names the certificate by its SHA-256 thumbprint and authenticates with PS256 / x5t#S256 against the testkit', async () => {
    const { e, dir, ca } = await setup();
    const file = join(dir, 'smtp-oauth.config.json');
    const r = await runCli(
      [
        'config',
        'init',
        '--yes',
        '--preset',
        'generic',
        '--host',
        e.smtp.host,
        '--port',
        String(e.smtp.port),
        '--token-endpoint',
        e.tokenEndpoint,
        '--scope',
        e.scope,
        '--client-id',
        e.clientId,
        '--mailbox',
        e.mailbox,
        '--credential',
        'certificate',
        '--certificate',
        'cert.pem',
        '--private-key',
        'key.pem',
        '--output',
        file,
      ],
      { cwd: dir },
    );
    expect(r.code, output(r)).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.auth.credential).toEqual({
      kind: 'certificate',
      certificatePem: 'file:./cert.pem',
      privateKeyPem: 'file:./key.pem',
      thumbprint: e.certificate.thumbprintSha256,
    });
    expect(written.auth.credential.thumbprint).toMatch(/^[0-9A-F]{64}$/);
    const token = await runCli(['token', '--config', file, '--ca', ca], { cwd: dir });
    expect(token.code, output(token)).toBe(0);
    expect(e.tokenRequests().at(-1)).toMatchObject({ authMethod: 'assertion-ps256', outcome: 'issued' });
  });
});
