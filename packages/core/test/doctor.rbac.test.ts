// The doctor against a tenant that authorizes the app with RBAC for Applications (reference §7):
// each RBAC step broken in the testkit, with the failing step and the fix of that model asserted.
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.js';
import { diagnose } from '../src/doctor/index.js';
import type { DiagnoseResult, DiagnosticStep, DiagnosticStepId } from '../src/doctor/types.js';
import { inspectAccessToken } from '../src/tokens/inspect.js';
import { createTokenProvider } from '../src/tokens/create.js';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function rbacTenant(): Promise<TestEnvironment> {
  env = await createTestEnvironment({ permissionModel: 'rbac' });
  return env;
}

/** The environment's entry, declaring the tenant's model. */
function entry(e: TestEnvironment, permissionModel?: 'mailbox' | 'rbac') {
  return { ...e.config, auth: { ...e.config.auth, ...(permissionModel && { permissionModel }) } };
}

function step(result: DiagnoseResult, id: DiagnosticStepId): DiagnosticStep {
  const s = result.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}
const firstFailure = (r: DiagnoseResult) => r.steps.find((s) => s.status === 'fail');
const commands = (s: DiagnosticStep) => s.fix?.commands ?? [];

describe('diagnose — RBAC for Applications', () => {
  it("accepts a token without roles when the entry says permissionModel 'rbac'; the test message goes through", async () => {
    const e = await rbacTenant();
    const result = await diagnose(entry(e, 'rbac'), { sendTestTo: e.mailbox });
    expect(result.ok).toBe(true);
    const claims = step(result, 'claims');
    expect(claims.status).toBe('ok');
    expect(claims.evidence).toContain('roles: (none)');
    expect(claims.evidence.join('\n')).toMatch(/✓ roles: No roles claim, as RBAC for Applications expects/);
    expect(step(result, 'message').status).toBe('ok');
    expect(e.messages()).toHaveLength(1);
  });

  it('infers RBAC and says so when the entry does not declare a model and Exchange accepts a token without roles', async () => {
    const e = await rbacTenant();
    const result = await diagnose(entry(e));
    expect(result.ok).toBe(true);
    const claims = step(result, 'claims');
    expect(claims.status).toBe('warn');
    expect(claims.causes?.[0]).toMatch(/RBAC for Applications \(inferred from the AUTH result\)/);
    expect(commands(claims)).toEqual(['"permissionModel": "rbac"']);
    expect(step(result, 'auth').status).toBe('warn');
  });

  it('no role assignment → AUTH 535 5.7.3, fix New-ManagementScope + New-ManagementRoleAssignment + Test-ServicePrincipalAuthorization', async () => {
    const e = await rbacTenant();
    e.directory.removeManagementRoleAssignment(e.tenantId, e.rbac?.assignment.name as string);
    const result = await diagnose(entry(e, 'rbac'));
    expect(firstFailure(result)?.id).toBe('auth');
    expect(step(result, 'claims').status).toBe('ok');
    const auth = step(result, 'auth');
    expect(auth.evidence.join('\n')).toContain('535 5.7.3 Authentication unsuccessful');
    expect(auth.causes?.[0]).toMatch(/no 'Application SMTP.SendAsApp' management role assignment/);
    // Not the classic model's advice:
    expect(JSON.stringify(auth.fix)).not.toContain('adminconsent');
    const cmds = commands(auth);
    expect(cmds).toContain(
      `New-DistributionGroup -Name 'SMTP senders' -Type Security -Members '${e.mailbox}'`,
    );
    expect(cmds).toContain(
      `New-ManagementScope -Name 'SMTP senders' -RecipientRestrictionFilter "MemberOfGroup -eq '$groupDn'"`,
    );
    expect(cmds).toContain(
      `New-ManagementRoleAssignment -Name 'SMTP SendAsApp ${e.clientId}' -Role 'Application SMTP.SendAsApp' -App ${e.clientId} -CustomResourceScope 'SMTP senders'`,
    );
    expect(
      cmds.some((c) =>
        c.startsWith(`Test-ServicePrincipalAuthorization -Identity ${e.clientId} -Resource '${e.mailbox}'`),
      ),
    ).toBe(true);
  });

  it('mailbox outside the scope → 430 4.2.0 at MAIL FROM, fix: check InScope and add the mailbox to the scope group', async () => {
    const e = await rbacTenant();
    e.directory.removeGroupMember(e.rbac?.group.name as string, e.mailbox);
    const result = await diagnose(entry(e, 'rbac'), { sendTestTo: e.mailbox });
    const failed = firstFailure(result);
    expect(failed?.id).toBe('mail');
    expect(failed?.evidence.join('\n')).toContain('430 4.2.0 STOREDRV; mailbox logon failure');
    expect(failed?.causes?.[0]).toMatch(/outside the management scope/);
    const cmds = commands(failed as DiagnosticStep);
    expect(cmds[1]).toMatch(
      new RegExp(`^Test-ServicePrincipalAuthorization -Identity ${e.clientId} -Resource '${e.mailbox}'`),
    );
    expect(cmds).toContain(
      `Add-DistributionGroupMember -Identity '<the group named in the scope filter>' -Member '${e.mailbox}'`,
    );
    expect(JSON.stringify(failed?.fix)).not.toContain('Add-MailboxPermission');
    // Following the fix makes the doctor green.
    e.directory.addGroupMember(e.rbac?.group.name as string, e.mailbox);
    expect((await diagnose(entry(e, 'rbac'), { sendTestTo: e.mailbox })).ok).toBe(true);
  });

  it('roles present without mailbox permission → claims warn (remove the permission or grant FullAccess), 430 blamed on the claim', async () => {
    const e = await rbacTenant();
    e.directory.addPermission(e.clientId, { adminConsent: true });
    const result = await diagnose(entry(e, 'rbac'), { sendTestTo: e.mailbox });
    const claims = step(result, 'claims');
    expect(claims.status).toBe('warn');
    expect(claims.evidence).toContain('roles: SMTP.SendAsApp');
    expect(claims.causes?.[0]).toMatch(/carries SMTP\.SendAsApp although the tenant uses RBAC/);
    expect(claims.fix?.summary).toMatch(
      /remove the application permission .*or keep it and give the service principal FullAccess/i,
    );
    const failed = firstFailure(result);
    expect(failed?.id).toBe('mail');
    expect(failed?.causes?.[0]).toMatch(
      /token carries SMTP\.SendAsApp, so Exchange checks the mailbox permission/,
    );
    expect(commands(failed as DiagnosticStep)).toContain(
      `Add-MailboxPermission -Identity "${e.mailbox}" -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess`,
    );
  });

  it('the classic model stays the default: an undeclared entry whose AUTH fails still gets the consent fix', async () => {
    const e = await rbacTenant();
    e.directory.removeManagementRoleAssignment(e.tenantId, e.rbac?.assignment.name as string);
    const result = await diagnose(entry(e));
    expect(firstFailure(result)?.id).toBe('claims');
    const claims = step(result, 'claims');
    expect(claims.causes?.[1]).toMatch(/set auth\.permissionModel to 'rbac'/);
    expect(step(result, 'auth').status).toBe('fail');
  });
});

describe("inspectAccessToken({ permissionModel: 'rbac' }) — what the server's token test and the WebAdmin show", () => {
  it('passes a token without roles and warns about one with SMTP.SendAsApp', async () => {
    const e = await rbacTenant();
    const parsed = parseConfig(entry(e, 'rbac'));
    if (!parsed.ok) throw new Error('entry invalid');
    const provider = createTokenProvider(parsed.config, { ca: e.caPem });
    const { accessToken } = await provider.getToken({ forceRefresh: true });
    const rbac = inspectAccessToken(accessToken, { permissionModel: 'rbac' });
    expect(rbac.ok).toBe(true);
    expect(rbac.findings.find((f) => f.check === 'roles')).toMatchObject({ ok: true });
    // The classic judgement of the same token: a failure, which is wrong advice in this tenant.
    expect(inspectAccessToken(accessToken).ok).toBe(false);

    e.directory.addPermission(e.clientId, { adminConsent: true });
    const withRoles = inspectAccessToken((await provider.getToken({ forceRefresh: true })).accessToken, {
      permissionModel: 'rbac',
    });
    expect(withRoles.ok).toBe(true);
    expect(withRoles.findings.find((f) => f.check === 'roles')).toMatchObject({ ok: true, warning: true });
  });
});
