import { readFileSync } from 'node:fs';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { output, runCli, type Workspace, workspace } from './helpers.js';

// Each test breaks (or not) its own environment.
let env: TestEnvironment | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  ws?.remove();
  await env?.close();
  env = undefined;
  ws = undefined;
});

async function setup(): Promise<{ e: TestEnvironment; w: Workspace }> {
  env = await createTestEnvironment();
  ws = workspace(env);
  return { e: env, w: ws };
}

const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/;

describe('smtp-oauth token', () => {
  it('shows the decoded claims with ✓ checks, and never the token without --show-token', async () => {
    const { e, w } = await setup();
    const r = await runCli([...w.args, 'token'], { cwd: w.dir, env: w.env });
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain(
      '✓ audience: Audience https://outlook.office365.com is an Exchange Online resource',
    );
    expect(r.stdout).toContain('✓ roles: roles contains SMTP.SendAsApp');
    expect(r.stdout).toContain(`✓ tenant: Tenant ${e.tenantId}`);
    expect(r.stdout).toMatch(/^ {2}roles +SMTP\.SendAsApp$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}oid +${e.app.servicePrincipalObjectId}$`, 'm'));
    expect(output(r)).not.toMatch(JWT);

    const json = await runCli([...w.args, 'token', '--json'], { cwd: w.dir, env: w.env });
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({
      ok: true,
      exitCode: 0,
      clientId: e.clientId,
      claims: { roles: ['SMTP.SendAsApp'] },
    });
    expect(doc.accessToken).toBeUndefined();
    expect(output(json)).not.toMatch(JWT);

    const shown = await runCli([...w.args, 'token', '--show-token'], { cwd: w.dir, env: w.env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(JWT);
    expect(shown.stderr).toContain('treat it like a password');
  });

  it('a token without SMTP.SendAsApp fails the roles check with the consent URL (exit 3)', async () => {
    const { e, w } = await setup();
    e.directory.revokeAdminConsent(e.clientId);
    const r = await runCli([...w.args, 'token'], { cwd: w.dir, env: w.env });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      '✗ roles: The token has no roles claim: admin consent for SMTP.SendAsApp is missing',
    );
    expect(r.stdout).toContain(`adminconsent?client_id=${e.clientId}`);
  });

  it('a wrong secret → the token endpoint’s AADSTS error and hint, exit 3', async () => {
    const { w } = await setup();
    const r = await runCli([...w.args, 'token'], {
      cwd: w.dir,
      env: { SMTP_OAUTH_CLIENT_SECRET: 'Wrong~value-0123456789abcdefghijklmnopq' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('TOKEN_INVALID_CLIENT_SECRET');
    expect(r.stderr).toContain('AADSTS7000215: Invalid client secret provided.');
    expect(r.stderr).toMatch(/hint: .*Value, not its Secret ID/);
    expect(output(r)).not.toContain('Wrong~value');
  });
});

describe('smtp-oauth doctor', () => {
  it('all green: every step listed, exit 0; --json is the full result', async () => {
    const { e, w } = await setup();
    const r = await runCli([...w.args, 'doctor'], { cwd: w.dir, env: w.env });
    expect(r.code, output(r)).toBe(0);
    for (const title of [
      'Configuration',
      'DNS lookup',
      'TCP connection',
      'TLS',
      'SMTP capabilities (EHLO)',
      'Access token',
      'Token claims',
      'SMTP AUTH',
    ])
      expect(r.stdout).toMatch(new RegExp(`^✓ ${title.replace(/[()]/g, '\\$&')} \\d+ ms$`, 'm'));
    expect(r.stdout).toMatch(/^- Test message$/m);
    expect(r.stdout).toContain('S: 235 2.7.0 Authentication successful');
    expect(r.stdout).toMatch(/^✓ All checks passed$/m);

    const j = await runCli([...w.args, 'doctor', '--json', '--send-test-to', e.mailbox], {
      cwd: w.dir,
      env: w.env,
    });
    expect(j.code, output(j)).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.exitCode).toBe(0);
    expect(doc.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual([
      'config:ok',
      'dns:ok',
      'tcp:ok',
      'tls:ok',
      'ehlo:ok',
      'token:ok',
      'claims:ok',
      'auth:ok',
      'mail:ok',
      'message:ok',
    ]);
  });

  it('no service principal: the failing step, the exact reply and the fix in the output and in --json (exit 3)', async () => {
    const { e, w } = await setup();
    e.directory.removeServicePrincipal(e.servicePrincipal.identity);
    const r = await runCli([...w.args, 'doctor'], { cwd: w.dir, env: w.env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^✗ SMTP AUTH \d+ ms$/m);
    expect(r.stdout).toContain(
      'S: 535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    );
    expect(r.stdout).toContain('Probable causes:');
    expect(r.stdout).toContain(
      `New-ServicePrincipal -AppId ${e.clientId} -ObjectId ${e.app.servicePrincipalObjectId}`,
    );
    expect(r.stdout).toMatch(/^✗ SMTP AUTH failed: The app's service principal is not registered/m);

    const j = await runCli([...w.args, 'doctor', '--json'], { cwd: w.dir, env: w.env });
    expect(j.code).toBe(3);
    const doc = JSON.parse(j.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.exitCode).toBe(3);
    const auth = doc.steps.find((s: { id: string }) => s.id === 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.evidence).toContain(
      'S: 535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    );
    expect(auth.fix.commands).toContain(
      `New-ServicePrincipal -AppId ${e.clientId} -ObjectId ${e.app.servicePrincipalObjectId}`,
    );
  });

  it('SMTP AUTH disabled for the mailbox → Set-CASMailbox with the mailbox, exit 3', async () => {
    const { e, w } = await setup();
    e.directory.setMailboxSmtpAuth(e.mailbox, false);
    const r = await runCli([...w.args, 'doctor'], { cwd: w.dir, env: w.env });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('SmtpClientAuthentication is disabled for the Mailbox');
    expect(r.stdout).toContain(
      `Set-CASMailbox -Identity "${e.mailbox}" -SmtpClientAuthenticationDisabled $false`,
    );
  });

  it('an invalid config is shown as the failing config step (exit 2)', async () => {
    const { w } = await setup();
    const bad = workspaceWithScope(w, 'Mail.Send');
    const r = await runCli(['doctor', '--config', bad, '--ca', w.args[3] as string], {
      cwd: w.dir,
      env: w.env,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^✗ Configuration/m);
    expect(r.stdout).toContain('auth.scope: must be `<resource>/.default`');
  });
});

function workspaceWithScope(w: Workspace, scope: string): string {
  const config = JSON.parse(readFileSync(w.configFile, 'utf8'));
  config.auth.scope = scope;
  return w.write('bad-scope.json', JSON.stringify(config));
}
