import { describe, expect, it } from 'vitest';
import type { DiagnosticStep, EmailServer } from '../src/api/client.js';
import { fixes, fixValues, rbacFixes } from '@org/core/setup';
import {
  guideFacts,
  guideStatus,
  guideSteps,
  permissionModelOf,
  permissionModels,
  rbacCheckCommand,
} from '../src/lib/setup-guide.js';

const TENANT = '8f0c1f2e-3d4b-4a5c-9e6f-7a8b9c0d1e2f';
const CLIENT = '11111111-2222-3333-4444-555555555555';
const OID = '99999999-8888-7777-6666-555555555555';

const entry = (overrides: Partial<EmailServer['config']> = {}): EmailServer => ({
  id: 'srv_1',
  name: 'main',
  isDefault: true,
  config: {
    name: 'main',
    host: 'smtp-mail.outlook.com',
    port: 587,
    security: 'starttls',
    user: 'noreply@contoso.com',
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint: `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`,
      clientId: CLIENT,
      scope: 'https://outlook.office365.us/.default',
      credential: { kind: 'secret', clientSecretSet: true },
    },
    ...overrides,
  },
  clientSecretSet: true,
  passwordSet: false,
  certificate: null,
  certificateProblem: null,
  lastTest: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const step = (id: DiagnosticStep['id'], status: DiagnosticStep['status']): DiagnosticStep => ({
  id,
  title: id,
  status,
  durationMs: 1,
  evidence: [],
});

describe('setup guide', () => {
  it('fills the commands and the consent link with the entry’s own ids and cloud', () => {
    const steps = guideSteps(guideFacts(entry(), { oid: OID, tid: TENANT }));
    const commands = steps.flatMap((s) => s.commands);
    // GCC High: Exchange Online PowerShell needs its environment name.
    expect(commands).toContain(
      'Connect-ExchangeOnline -UserPrincipalName <admin@your-tenant> -ExchangeEnvironmentName O365USGovGCCHigh',
    );
    expect(commands).toContain(`New-ServicePrincipal -AppId ${CLIENT} -ObjectId ${OID}`);
    expect(commands).toContain(
      'Add-MailboxPermission -Identity "noreply@contoso.com" -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess',
    );
    expect(commands).toContain(
      'Set-CASMailbox -Identity "noreply@contoso.com" -SmtpClientAuthenticationDisabled $false',
    );
    expect(steps.find((s) => s.id === 'consent')?.links[0]?.url).toBe(
      `https://login.microsoftonline.us/${TENANT}/adminconsent?client_id=${CLIENT}`,
    );
  });

  it('has no command or link of its own: each one is core’s, as the doctor prints it', () => {
    const facts = guideFacts(entry({ from: 'billing@contoso.com' }), { oid: OID });
    const v = { ...fixValues(entry().config, 'billing@contoso.com'), servicePrincipalObjectId: OID };
    const core = Object.values(fixes).map((fix) => fix(v, false as never));
    const coreCommands = new Set(core.flatMap((f) => f.commands ?? []));
    const coreUrls = new Set(core.flatMap((f) => (f.links ?? []).map((l) => l.url)));
    const steps = guideSteps(facts);
    for (const command of steps.flatMap((s) => s.commands)) expect(coreCommands).toContain(command);
    for (const link of steps.flatMap((s) => s.links)) expect(coreUrls).toContain(link.url);
  });

  it('shows placeholders without an entry, and the object id placeholder until a token test ran', () => {
    const commands = guideSteps(guideFacts(entry())).flatMap((s) => s.commands);
    expect(commands).toContain(
      `New-ServicePrincipal -AppId ${CLIENT} -ObjectId <Enterprise Application object id>`,
    );
    const none = guideSteps(guideFacts(undefined));
    expect(none.find((s) => s.id === 'consent')?.links[0]?.url).toBe(
      'https://login.microsoftonline.com/<TENANT_ID>/adminconsent?client_id=<CLIENT_ID>',
    );
    expect(none.flatMap((s) => s.commands)).toContain(
      'Set-CASMailbox -Identity "<MAILBOX>" -SmtpClientAuthenticationDisabled $false',
    );
  });

  it('adds SendAs when the From address is another mailbox', () => {
    const steps = guideSteps(guideFacts(entry({ from: 'billing@contoso.com' }), { oid: OID }));
    const commands = steps.find((s) => s.id === 'mailbox-permission')?.commands ?? [];
    expect(commands).toContain(
      'Add-RecipientPermission -Identity "billing@contoso.com" -Trustee <SERVICE_PRINCIPAL_ID> -AccessRights SendAs',
    );
    // Connect and Get-ServicePrincipal once, not once per fix.
    expect(commands.filter((c) => c.startsWith('Connect-ExchangeOnline'))).toHaveLength(1);
    expect(
      guideSteps(guideFacts(entry()))
        .flatMap((s) => s.commands)
        .join('\n'),
    ).not.toContain('SendAs');
  });

  it('ties each step to the diagnostics step that confirms it', () => {
    const steps = guideSteps(guideFacts(entry()));
    const byId = (id: string) => steps.find((s) => s.id === id)!;
    const run = [
      step('token', 'ok'),
      step('claims', 'ok'),
      step('auth', 'ok'),
      step('mail', 'fail'),
      step('message', 'skipped'),
    ];
    expect(guideStatus(byId('consent'), run)).toBe('confirmed');
    expect(guideStatus(byId('mailbox-permission'), run)).toBe('failing');
    expect(guideStatus(byId('smtp-auth'), [step('auth', 'skipped')])).toBe('not-reached');
    expect(guideStatus(byId('register'), undefined)).toBe('unknown');
  });
});

describe('setup guide — RBAC for Applications', () => {
  const rbacEntry = () => {
    const e = entry();
    if (e.config.auth.type === 'oauth2') e.config.auth.permissionModel = 'rbac';
    return e;
  };

  it("follows the entry's permission model; the classic model stays the default", () => {
    expect(permissionModelOf(entry())).toBe('mailbox');
    expect(permissionModelOf(undefined)).toBe('mailbox');
    expect(permissionModelOf(rbacEntry())).toBe('rbac');
  });

  it('replaces API permission, consent and FullAccess by the scope and the role assignment, with the same commands as the doctor', () => {
    const facts = guideFacts(rbacEntry(), { oid: OID });
    const steps = guideSteps(facts, 'rbac');
    expect(steps.map((s) => s.id)).toEqual([
      'register',
      'no-api-permission',
      'credential',
      'service-principal',
      'rbac-scope',
      'smtp-auth',
    ]);
    const scope = steps.find((s) => s.id === 'rbac-scope');
    // One home for the text: core's RBAC fix, as the doctor prints it.
    expect(scope?.commands).toEqual(rbacFixes.roleAssignment(facts).commands);
    expect(scope?.commands).toContain(
      `New-ManagementRoleAssignment -Name 'SMTP SendAsApp ${CLIENT}' -Role 'Application SMTP.SendAsApp' -App ${CLIENT} -CustomResourceScope 'SMTP senders'`,
    );
    expect(steps.flatMap((s) => s.commands).join('\n')).not.toContain('Add-MailboxPermission');
    expect(steps.flatMap((s) => s.links).map((l) => l.url)).not.toContain(
      `https://login.microsoftonline.us/${TENANT}/adminconsent?client_id=${CLIENT}`,
    );
    expect(
      guideStatus(scope as never, [step('auth', 'ok'), step('mail', 'ok'), step('message', 'fail')]),
    ).toBe('failing');
    expect(rbacCheckCommand(facts)).toMatch(
      /^Test-ServicePrincipalAuthorization -Identity 11111111-2222-3333-4444-555555555555 -Resource 'noreply@contoso.com'/,
    );
  });

  it('offers a short comparison of both models and which suits what', () => {
    expect(permissionModels.map((m) => m.model)).toEqual(['mailbox', 'rbac']);
    for (const m of permissionModels) expect(m.suits.length).toBeGreaterThan(20);
    expect(permissionModels[1]?.whichMailboxes).toMatch(/management scope/);
  });
});
