// The CLI against a tenant that authorizes the app with RBAC for Applications (reference §7): a
// token without roles is right there, so `token` and `doctor` pass once the entry says so.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { output, runCli, type Workspace, workspace } from './helpers.js';

let env: TestEnvironment | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  ws?.remove();
  await env?.close();
  env = undefined;
  ws = undefined;
});

describe("smtp-oauth with auth.permissionModel 'rbac'", () => {
  // Regression: `token` failed a token without roles ("admin consent … is missing", exit 3) in
  // tenants that use RBAC for Applications.
  it('token passes a token without roles; doctor passes and sends the test message', async () => {
    env = await createTestEnvironment({ permissionModel: 'rbac' });
    ws = workspace(env, { auth: { permissionModel: 'rbac' } });
    const token = await runCli([...ws.args, 'token'], { cwd: ws.dir, env: ws.env });
    expect(token.code, output(token)).toBe(0);
    expect(token.stdout).toContain('✓ roles: No roles claim, as RBAC for Applications expects');
    const doctor = await runCli([...ws.args, 'doctor', '--send-test-to', env.mailbox], {
      cwd: ws.dir,
      env: ws.env,
    });
    expect(doctor.code, output(doctor)).toBe(0);
    expect(env.messages()).toHaveLength(1);
  });

  it('token warns (exit 0) when the token carries SMTP.SendAsApp in an RBAC tenant, with the fix', async () => {
    env = await createTestEnvironment({ permissionModel: 'rbac' });
    env.directory.addPermission(env.clientId, { adminConsent: true });
    ws = workspace(env, { auth: { permissionModel: 'rbac' } });
    const token = await runCli([...ws.args, 'token'], { cwd: ws.dir, env: ws.env });
    expect(token.code, output(token)).toBe(0);
    expect(token.stdout).toMatch(
      /^! roles: The token carries SMTP\.SendAsApp although the tenant uses RBAC/m,
    );
    expect(token.stdout).toMatch(
      /fix: Remove the application permission .*or give the service principal FullAccess/,
    );
  });

  it('config init --permission-model rbac writes auth.permissionModel, and the token passes', async () => {
    env = await createTestEnvironment({ permissionModel: 'rbac' });
    ws = workspace(env);
    const file = join(ws.dir, 'init.json');
    writeFileSync(join(ws.dir, 'ca.pem'), env.caPem);
    const init = await runCli(
      [
        'config',
        'init',
        '--yes',
        '--preset',
        'generic',
        '--host',
        env.smtp.host,
        '--port',
        String(env.smtp.port),
        '--token-endpoint',
        env.tokenEndpoint,
        '--scope',
        env.scope,
        '--client-id',
        env.clientId,
        '--mailbox',
        env.mailbox,
        '--permission-model',
        'rbac',
        '--output',
        file,
      ],
      { cwd: ws.dir, env: ws.env },
    );
    expect(init.code, output(init)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).auth.permissionModel).toBe('rbac');
    const token = await runCli(['token', '--config', file, '--ca', join(ws.dir, 'ca.pem')], {
      cwd: ws.dir,
      env: ws.env,
    });
    expect(token.code, output(token)).toBe(0);
  });
});
