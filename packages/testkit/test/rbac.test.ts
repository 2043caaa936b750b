// RBAC for Applications (reference §7), driven the way a user would: real HTTPS token requests, a
// real nodemailer client over STARTTLS, the inspection API over HTTP.
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  APPLICATION_SMTP_SEND_AS_APP,
  createDirectory,
  createInspectServer,
  createTestEnvironment,
  DirectoryError,
  type InspectServer,
  type TestEnvironment,
} from '../src/index.js';

function fetchToken(env: TestEnvironment): Promise<Record<string, unknown>> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: env.clientId,
    client_secret: env.clientSecret,
    scope: env.scope,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      env.tokenEndpoint,
      { method: 'POST', ca: env.caPem, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function claimsOf(accessToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString('utf8'));
}

async function send(env: TestEnvironment, subject: string, user = env.mailbox) {
  const token = String((await fetchToken(env)).access_token);
  const transport = nodemailer.createTransport({
    host: env.smtp.host,
    port: env.smtp.port,
    requireTLS: true,
    tls: { ca: env.caPem, minVersion: 'TLSv1.2' },
    auth: { type: 'OAuth2', user, accessToken: token },
  });
  try {
    return await transport.sendMail({ from: user, to: 'someone@example.com', subject, text: 'hello' });
  } finally {
    transport.close();
  }
}

function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe("createTestEnvironment({ permissionModel: 'rbac' })", () => {
  let env: TestEnvironment;
  let inspect: InspectServer;
  beforeAll(async () => {
    env = await createTestEnvironment({ permissionModel: 'rbac' });
    inspect = await createInspectServer(env);
  });
  afterAll(async () => {
    await inspect.close();
    await env.close();
  });
  afterEach(() => env.reset());

  it('sets the tenant up without API permission or FullAccess, with a scope on a group holding the mailbox', () => {
    // Reference §7, row "Entra API permission": "none: Microsoft says not to add SMTP.SendAsApp".
    expect(env.app.permissions).toEqual([]);
    // Row "which mailboxes": New-ManagementScope … -RecipientRestrictionFilter "MemberOfGroup -eq '<group DN>'",
    // then New-ManagementRoleAssignment … -Role 'Application SMTP.SendAsApp' -App <appId> -CustomResourceScope.
    const snap = env.directory.snapshot();
    expect(snap.mailboxes.find((m) => m.address === env.mailbox)?.fullAccess).toEqual([]);
    expect(env.permissionModel).toBe('rbac');
    expect(env.rbac?.group.members).toEqual([env.mailbox]);
    expect(env.rbac?.scope.recipientRestrictionFilter).toBe(
      `MemberOfGroup -eq '${env.rbac?.group.distinguishedName}'`,
    );
    expect(env.rbac?.assignment).toMatchObject({
      role: APPLICATION_SMTP_SEND_AS_APP,
      app: env.servicePrincipal.identity,
      customResourceScope: env.rbac?.scope.name,
    });
  });

  it('issues a token without roles, and Exchange accepts it for the mailbox in scope', async () => {
    // Reference §7: "(token carries **no** `roles`)".
    const token = await fetchToken(env);
    expect(claimsOf(String(token.access_token)).roles).toBeUndefined();
    const info = await send(env, 'rbac works');
    expect(info.response).toMatch(/^250 2\.0\.0 OK/);
    expect(env.authAttempts().at(-1)?.reason).toContain('RBAC for Applications');
  });

  it('refuses AUTH (535 5.7.3) when the service principal has no role assignment', async () => {
    // Reference §3: "no SMTP.SendAsApp role … 535 5.7.3"; under RBAC the assignment stands in for the role.
    const name = env.rbac?.assignment.name as string;
    env.directory.removeManagementRoleAssignment(env.tenantId, name);
    try {
      await expect(send(env, 'no assignment')).rejects.toMatchObject({
        responseCode: 535,
        response: expect.stringContaining('5.7.3 Authentication unsuccessful'),
      });
      expect(env.authAttempts().at(-1)?.reason).toContain(
        "no 'Application SMTP.SendAsApp' management role assignment",
      );
    } finally {
      env.directory.newManagementRoleAssignment(env.tenantId, {
        name,
        app: env.servicePrincipal.identity,
        customResourceScope: env.rbac?.scope.name as string,
      });
    }
  });

  it('refuses a mailbox outside the scope the way a missing mailbox permission is refused (430 4.2.0)', async () => {
    // Reference §7: "a mailbox outside the management scope fails AUTH/submission as a missing
    // mailbox permission does"; §3: "430 4.2.0 STOREDRV; mailbox logon failure".
    env.directory.removeGroupMember(env.rbac?.group.name as string, env.mailbox);
    try {
      await expect(send(env, 'outside scope')).rejects.toMatchObject({
        responseCode: 430,
        response: expect.stringContaining('4.2.0 STOREDRV; mailbox logon failure'),
      });
      const rows = env.directory.testServicePrincipalAuthorization(
        env.servicePrincipal.identity,
        env.mailbox,
      );
      expect(rows).toEqual([
        {
          RoleName: 'Application SMTP.SendAsApp',
          GrantedPermissions: 'SMTP.SendAsApp',
          AllowedResourceScope: 'SMTP senders',
          ScopeType: 'CustomRecipientScope',
          InScope: false,
        },
      ]);
    } finally {
      env.directory.addGroupMember(env.rbac?.group.name as string, env.mailbox);
    }
    expect(
      env.directory.testServicePrincipalAuthorization(env.servicePrincipal.identity, env.mailbox)[0]?.InScope,
    ).toBe(true);
  });

  it('a token that carries SMTP.SendAsApp triggers the mailbox-permission check: in scope is not enough', async () => {
    // Reference §7: "Microsoft says not to add SMTP.SendAsApp, since that claim triggers the
    // mailbox-permission check".
    const permission = env.directory.addPermission(env.clientId, { adminConsent: true });
    try {
      expect(claimsOf(String((await fetchToken(env)).access_token)).roles).toEqual(['SMTP.SendAsApp']);
      await expect(send(env, 'roles without FullAccess')).rejects.toMatchObject({ responseCode: 430 });
      // FullAccess makes the classic model work again.
      env.directory.addMailboxPermission(env.mailbox, env.servicePrincipal.identity);
      expect((await send(env, 'roles with FullAccess')).response).toMatch(/^250 /);
    } finally {
      env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
      env.app.permissions.splice(env.app.permissions.indexOf(permission), 1);
    }
  });

  it('lets the inspection API break and check each RBAC step', async () => {
    const base = `${inspect.url}/api/directory`;
    const check = await post(base, { action: 'testServicePrincipalAuthorization' });
    expect(check.status).toBe(200);
    expect((check.body.result as Array<{ InScope: boolean }>)[0]?.InScope).toBe(true);

    expect((await post(base, { action: 'addGroup', name: 'Other senders' })).status).toBe(200);
    const other = env.directory.snapshot().groups.find((g) => g.name === 'Other senders');
    const scope = await post(base, {
      action: 'newManagementScope',
      name: 'Other scope',
      recipientRestrictionFilter: `MemberOfGroup -eq '${other?.distinguishedName}'`,
    });
    expect(scope.status).toBe(200);
    // In use: Exchange refuses to remove a scope an assignment names.
    expect((await post(base, { action: 'removeManagementScope', name: 'SMTP senders' })).body.error).toMatch(
      /used by role assignment/,
    );
    const bad = await post(base, {
      action: 'newManagementScope',
      name: 'Typo',
      recipientRestrictionFilter: "MemberOfGroup -eq 'CN=Nope'",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('MemberOfGroup names no group');
    expect((await post(base, { action: 'removeManagementScope', name: 'Other scope' })).status).toBe(200);

    const snap = await new Promise<Record<string, unknown>>((resolve, reject) => {
      httpRequest(base, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      })
        .on('error', reject)
        .end();
    });
    expect(snap.managementRoleAssignments).toHaveLength(1);
    expect(snap.managementScopes).toHaveLength(1);
  });
});

describe('directory: management scopes', () => {
  function setUp() {
    const d = createDirectory();
    const t = d.addTenant({ domains: ['contoso.onmicrosoft.com'] });
    const app = d.registerApp(t.id);
    const sp = d.newServicePrincipal(t.id, { appId: app.clientId, objectId: app.servicePrincipalObjectId });
    d.addMailbox(t.id, 'a@contoso.onmicrosoft.com');
    d.addMailbox(t.id, 'b@contoso.onmicrosoft.com');
    return { d, t, sp };
  }

  it('reads PrimarySmtpAddress and MemberOfGroup clauses joined by -or, and -and', () => {
    const { d, t, sp } = setUp();
    const g = d.addGroup(t.id, { name: 'G', members: ['A@contoso.onmicrosoft.com'] });
    d.newManagementScope(t.id, {
      name: 'either',
      recipientRestrictionFilter: `MemberOfGroup -eq '${g.distinguishedName}' -or PrimarySmtpAddress -eq 'b@contoso.onmicrosoft.com'`,
    });
    d.newManagementRoleAssignment(t.id, { app: sp.appId, customResourceScope: 'either' });
    expect(d.rbacAllowsSmtp(sp, 'a@contoso.onmicrosoft.com')).toBe(true);
    expect(d.rbacAllowsSmtp(sp, 'b@contoso.onmicrosoft.com')).toBe(true);
    d.newManagementScope(t.id, {
      name: 'both',
      recipientRestrictionFilter: `MemberOfGroup -eq '${g.distinguishedName}' -and PrimarySmtpAddress -eq "b@contoso.onmicrosoft.com"`,
    });
    const rows = d.testServicePrincipalAuthorization(sp.identity, 'b@contoso.onmicrosoft.com');
    expect(rows.map((r) => r.InScope)).toEqual([true]);
  });

  it('refuses what Exchange refuses: unreadable filters, a role assignment before New-ServicePrincipal', () => {
    const { d, t } = setUp();
    expect(() =>
      d.newManagementScope(t.id, { name: 'x', recipientRestrictionFilter: "Department -eq 'Sales'" }),
    ).toThrow(DirectoryError);
    d.newManagementScope(t.id, {
      name: 'one',
      recipientRestrictionFilter: "PrimarySmtpAddress -eq 'a@contoso.onmicrosoft.com'",
    });
    expect(() =>
      d.newManagementRoleAssignment(t.id, {
        app: '00000000-0000-0000-0000-000000000000',
        customResourceScope: 'one',
      }),
    ).toThrow(/run New-ServicePrincipal before New-ManagementRoleAssignment/);
  });

  it('counts only the Application SMTP.SendAsApp role for SMTP', () => {
    const { d, t, sp } = setUp();
    d.newManagementScope(t.id, {
      name: 'one',
      recipientRestrictionFilter: "PrimarySmtpAddress -eq 'a@contoso.onmicrosoft.com'",
    });
    // Reference §7: "(only that role is supported for SMTP)".
    d.newManagementRoleAssignment(t.id, {
      role: 'Application Mail.Send',
      app: sp.identity,
      customResourceScope: 'one',
    });
    expect(d.rbacAllowsSmtp(sp, 'a@contoso.onmicrosoft.com')).toBe(false);
  });
});
