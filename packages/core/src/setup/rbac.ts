/**
 * The setup steps of RBAC for Applications (Exchange Online, since October 2025) as fixes, with the
 * user's own values, next to the classic model's steps in `fixes.ts`.
 *
 * Source: Microsoft, "SMTP Onboarding to App RBAC" (office-developer-exchange-docs,
 * docs/legacy-protocols/smtp-app-rbac-onboarding.md, 2025-10-17) and the cmdlet reference of
 * `Test-ServicePrincipalAuthorization`. Under this model the app has **no** `SMTP.SendAsApp` API
 * permission (its token carries no `roles`); a management role assignment `Application
 * SMTP.SendAsApp`, limited by a management scope, says which mailboxes it may use. A token that
 * does carry `SMTP.SendAsApp` makes Exchange check the mailbox permission (FullAccess) instead.
 *
 * Browser-safe: no `node:*` imports (the WebAdmin's setup guide bundles it).
 */
import { type FixValues, fixes } from './fixes.js';
import type { DiagnosticFix, DiagnosticLink } from './types.js';

/** How Exchange Online authorizes the app. @default 'mailbox' */
export type PermissionModel = 'mailbox' | 'rbac';

/** The only management role Exchange supports for SMTP AUTH under RBAC for Applications. */
export const APPLICATION_SMTP_SEND_AS_APP_ROLE = 'Application SMTP.SendAsApp';

/** Names the RBAC commands use; defaults match the guide's example. */
export interface RbacNames {
  /** Mail-enabled security group whose members the scope holds. @default 'SMTP senders' */
  group?: string;
  /** Management scope name. @default 'SMTP senders' */
  scope?: string;
}

const DEFAULT_GROUP = 'SMTP senders';
const DEFAULT_SCOPE = 'SMTP senders';

export const RBAC_DOC: DiagnosticLink = {
  label: 'Microsoft: SMTP onboarding to RBAC for Applications',
  url: 'https://learn.microsoft.com/exchange/client-developer/legacy-protocols/smtp-app-rbac-onboarding',
};
const TEST_SP_DOC: DiagnosticLink = {
  label: 'Test-ServicePrincipalAuthorization',
  url: 'https://learn.microsoft.com/powershell/module/exchange/test-serviceprincipalauthorization',
};

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const connect = (v: FixValues) =>
  `Connect-ExchangeOnline -UserPrincipalName <admin@your-tenant>${v.exchangeEnvironment ? ` -ExchangeEnvironmentName ${v.exchangeEnvironment}` : ''}`;

/** The RBAC commands with the entry's values filled in (Exchange Online PowerShell). */
export const rbacCommands = {
  /** A mail-enabled security group holding the mailbox, and a scope on membership of that group. */
  managementScope(v: FixValues, names: RbacNames = {}): string[] {
    const group = names.group ?? DEFAULT_GROUP;
    const scope = names.scope ?? DEFAULT_SCOPE;
    return [
      `New-DistributionGroup -Name ${q(group)} -Type Security -Members ${q(v.mailbox)}`,
      `$groupDn = (Get-DistributionGroup -Identity ${q(group)}).DistinguishedName`,
      `New-ManagementScope -Name ${q(scope)} -RecipientRestrictionFilter "MemberOfGroup -eq '$groupDn'"`,
    ];
  },
  /** The role assignment for the app, limited to the scope. */
  roleAssignment(v: FixValues, names: RbacNames = {}): string {
    const scope = names.scope ?? DEFAULT_SCOPE;
    return `New-ManagementRoleAssignment -Name ${q(`SMTP SendAsApp ${v.clientId}`)} -Role ${q(APPLICATION_SMTP_SEND_AS_APP_ROLE)} -App ${v.clientId} -CustomResourceScope ${q(scope)}`;
  },
  /** Shows, per role assignment, whether the mailbox is in its scope (`InScope`). */
  test(v: FixValues): string {
    return `Test-ServicePrincipalAuthorization -Identity ${v.clientId} -Resource ${q(v.mailbox)} | Format-Table RoleName,GrantedPermissions,AllowedResourceScope,ScopeType,InScope`;
  },
  /** Lists the app's assignments and their scopes (to find the scope's group). */
  listAssignments(v: FixValues): string[] {
    return [
      `Get-ManagementRoleAssignment -RoleAssignee ${v.clientId} -Role ${q(APPLICATION_SMTP_SEND_AS_APP_ROLE)} | Format-List Name,CustomResourceScope`,
      'Get-ManagementScope -Identity <CustomResourceScope> | Format-List RecipientFilter',
    ];
  },
  /** Adds the mailbox to the group the scope filters on. */
  addToGroup(v: FixValues, names: RbacNames = {}): string {
    return `Add-DistributionGroupMember -Identity ${q(names.group ?? '<the group named in the scope filter>')} -Member ${q(v.mailbox)}`;
  },
};

/** The RBAC for Applications setup steps as fixes, with the entry's values filled in. */
export const rbacFixes = {
  /**
   * The whole RBAC setup for the app: a scope holding the mailbox, the role assignment, the check.
   * For "no role assignment" (AUTH answers 535 5.7.3 to a token without roles).
   */
  roleAssignment(v: FixValues, names: RbacNames = {}): DiagnosticFix {
    return {
      summary: `Give app ${v.clientId} the management role '${APPLICATION_SMTP_SEND_AS_APP_ROLE}' limited to a management scope that holds ${v.mailbox} (RBAC for Applications; the app's service principal must exist in Exchange Online first: New-ServicePrincipal). Then check it with Test-ServicePrincipalAuthorization: InScope must be True.`,
      commands: [
        connect(v),
        ...rbacCommands.managementScope(v, names),
        rbacCommands.roleAssignment(v, names),
        rbacCommands.test(v),
      ],
      links: [RBAC_DOC, TEST_SP_DOC],
    };
  },

  /** For "mailbox outside the scope" (430 4.2.0 mailbox logon failure under RBAC). */
  mailboxInScope(v: FixValues, names: RbacNames = {}): DiagnosticFix {
    return {
      summary: `The mailbox ${v.mailbox} is outside the management scope of app ${v.clientId}'s '${APPLICATION_SMTP_SEND_AS_APP_ROLE}' assignment. Check with Test-ServicePrincipalAuthorization (InScope False), then add the mailbox to the group the scope filters on (or widen the scope's filter).`,
      commands: [
        connect(v),
        rbacCommands.test(v),
        ...rbacCommands.listAssignments(v),
        rbacCommands.addToGroup(v, names),
        rbacCommands.test(v),
      ],
      links: [RBAC_DOC, TEST_SP_DOC],
    };
  },

  /**
   * For a token that carries `SMTP.SendAsApp` in an RBAC tenant: that claim makes Exchange check the
   * mailbox permission (FullAccess), so either remove the API permission or grant FullAccess.
   */
  removeApiPermission(v: FixValues): DiagnosticFix {
    const classic = fixes.mailboxPermission(v);
    return {
      summary: `The token carries SMTP.SendAsApp, which makes Exchange check the mailbox permission (FullAccess) instead of the RBAC assignment. Either remove the application permission Office 365 Exchange Online > SMTP.SendAsApp from app ${v.clientId} (API permissions; remove it and its admin consent), or keep it and give the service principal FullAccess on ${v.mailbox}.`,
      commands: [...(classic.commands ?? [])],
      links: [
        {
          label: `App registration ${v.clientId} (API permissions)`,
          url: `https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/CallAnAPI/appId/${v.clientId}`,
        },
        RBAC_DOC,
      ],
    };
  },
};

/** One line comparing the two models, for guides. */
export const permissionModelComparison: ReadonlyArray<{
  model: PermissionModel;
  label: string;
  entraPermission: string;
  whichMailboxes: string;
  check: string;
  suits: string;
}> = Object.freeze([
  {
    model: 'mailbox',
    label: 'API permission + mailbox permission (classic)',
    entraPermission: 'SMTP.SendAsApp with admin consent (the token carries roles)',
    whichMailboxes: 'Add-MailboxPermission … -AccessRights FullAccess, one mailbox at a time',
    check: 'Get-MailboxPermission',
    suits: 'One or a few sending mailboxes; works in every tenant and cloud.',
  },
  {
    model: 'rbac',
    label: 'RBAC for Applications',
    entraPermission: 'none (the token carries no roles)',
    whichMailboxes:
      "a management scope (e.g. members of a group) + New-ManagementRoleAssignment -Role 'Application SMTP.SendAsApp'",
    check: 'Test-ServicePrincipalAuthorization (InScope True)',
    suits:
      'Many sending mailboxes, or admins who manage access by group membership; no tenant-wide API permission to consent.',
  },
]);
