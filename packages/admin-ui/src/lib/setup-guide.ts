/**
 * The Microsoft 365 setup of the admin guide as a checklist: each step with what to copy (filled
 * with the entry's own ids) and which diagnostics step proves it done.
 *
 * Every command and link comes from core's setup fixes (`@org/core/setup`), the same builders the
 * doctor attaches to a failing step: the guide and diagnostics always show the same text. This file
 * only arranges them into steps and adds the portal walk-through.
 */
import {
  adminConsentUrl,
  type DiagnosticFix,
  type FixValues,
  fixes,
  fixValues,
  type PermissionModel,
  permissionModelComparison,
  rbacCommands,
  rbacFixes,
} from '@org/core/setup';
import type { DiagnosticStep, EmailServer, StepStatus } from '../api/client.js';

/** The values the guide's commands and links are written with: core's `FixValues`. */
export type GuideFacts = FixValues;

export interface GuideStep {
  id: string;
  title: string;
  /** What to do, in order. */
  instructions: string[];
  /** Values to copy into the portal or back into the entry. */
  copy: { label: string; value: string }[];
  /** PowerShell commands, with the entry's values filled in. */
  commands: string[];
  links: { label: string; url: string }[];
  /** Diagnostics steps that confirm this one, and what they look for. */
  confirmedBy: { steps: DiagnosticStep['id'][]; how: string };
}

/** Shown for the mailbox until an entry is chosen (core fills tenant and client id placeholders). */
const MAILBOX_PLACEHOLDER = '<MAILBOX>';

/**
 * Facts for the guide from a stored entry's public config (and a token test's claims, if one ran):
 * core's `fixValues`, plus the service principal's object id from the token's `oid`.
 */
export function guideFacts(server: EmailServer | undefined, claims?: Record<string, unknown>): GuideFacts {
  const none = fixValues({ user: MAILBOX_PLACEHOLDER, auth: { type: 'none' } }, MAILBOX_PLACEHOLDER);
  const facts = server ? fixValues(server.config, server.config.from ?? server.config.user) : none;
  if (typeof claims?.oid === 'string') facts.servicePrincipalObjectId = claims.oid;
  // A token endpoint that names no tenant (another provider's path): the token's tid does.
  if (typeof claims?.tid === 'string' && facts.tenant === none.tenant) facts.tenant = claims.tid;
  return facts;
}

const commandsOf = (...fixList: DiagnosticFix[]) => [...new Set(fixList.flatMap((f) => f.commands ?? []))];
const linksOf = (fix: DiagnosticFix, except?: string) => (fix.links ?? []).filter((l) => l.url !== except);

export type { PermissionModel } from '@org/core/setup';

/** The two ways Exchange authorizes the app, side by side (core's comparison, for the guide page). */
export const permissionModels = permissionModelComparison;

/** The permission model an entry declares (`auth.permissionModel`); the classic model otherwise. */
export function permissionModelOf(server: EmailServer | undefined): PermissionModel {
  const auth = server?.config.auth;
  return auth?.type === 'oauth2' && auth.permissionModel === 'rbac' ? 'rbac' : 'mailbox';
}

/**
 * The setup steps for the entry's permission model. `mailbox` (classic): SMTP.SendAsApp with admin
 * consent, then FullAccess per mailbox. `rbac` (RBAC for Applications): no API permission, and a
 * management scope with an `Application SMTP.SendAsApp` role assignment instead of FullAccess.
 */
export function guideSteps(facts: GuideFacts, model: PermissionModel = 'mailbox'): GuideStep[] {
  const steps = classicSteps(facts);
  if (model === 'mailbox') return steps;
  const rbac = rbacFixes.roleAssignment(facts);
  const sendsAsAnother = facts.from.toLowerCase() !== facts.mailbox.toLowerCase();
  const replaced: Record<string, GuideStep | undefined> = {
    permission: {
      id: 'no-api-permission',
      title: 'Do not add the SMTP.SendAsApp API permission',
      instructions: [
        'Under RBAC for Applications the app has no Office 365 Exchange Online permission in Entra: Exchange decides which mailboxes it may use from a management role assignment.',
        'If SMTP.SendAsApp is listed under API permissions, remove it (and its admin consent): a token that carries it makes Exchange check FullAccess on the mailbox instead of the role assignment.',
      ],
      copy: [],
      commands: [],
      links: linksOf(rbacFixes.removeApiPermission(facts)),
      confirmedBy: {
        steps: ['claims'],
        how: 'The claims step finds no roles in the token — right for this model (with SMTP.SendAsApp it warns).',
      },
    },
    consent: undefined,
    'mailbox-permission': {
      id: 'rbac-scope',
      title: 'Scope the app to its mailboxes with a role assignment',
      instructions: [
        'Put the mailbox into a mail-enabled security group; a management scope filters on membership of that group.',
        "Assign the management role 'Application SMTP.SendAsApp' to the app, limited to that scope (the service principal from the previous step must exist).",
        'Check it: Test-ServicePrincipalAuthorization lists the assignment with InScope True for the mailbox.',
        'To let the app send as more mailboxes later, add them to the group — no new command per mailbox.',
        ...(sendsAsAnother
          ? ['The entry sends From another address: grant SendAs on it too (last command).']
          : []),
      ],
      copy: [
        { label: 'Mailbox', value: facts.mailbox },
        { label: 'Application ID', value: facts.clientId },
      ],
      commands: commandsOf(rbac, ...(sendsAsAnother ? [fixes.sendAs(facts)] : [])),
      links: linksOf(rbac),
      confirmedBy: {
        steps: ['auth', 'mail', 'message'],
        how: 'AUTH gets 235 (else 535 5.7.3: no role assignment) and the message step, run with a test recipient, passes (else 430 4.2.0: the mailbox is outside the scope).',
      },
    },
  };
  return steps.flatMap((step) =>
    step.id in replaced ? (replaced[step.id] ? [replaced[step.id] as GuideStep] : []) : [step],
  );
}

/** Lines that check an RBAC assignment for the mailbox (shown next to the comparison). */
export function rbacCheckCommand(facts: GuideFacts): string {
  return rbacCommands.test(facts);
}

function classicSteps(facts: GuideFacts): GuideStep[] {
  const consentUrl = adminConsentUrl(facts);
  const sendsAsAnother = facts.from.toLowerCase() !== facts.mailbox.toLowerCase();
  const mailboxFixes = [fixes.mailboxPermission(facts), ...(sendsAsAnother ? [fixes.sendAs(facts)] : [])];

  return [
    {
      id: 'register',
      title: 'Register the application in Microsoft Entra',
      instructions: [
        'Open the Microsoft Entra admin center → Identity → Applications → App registrations → New registration.',
        'Give it a name (e.g. “SMTP sender”), keep “Accounts in this organizational directory only”, no redirect URI, and register.',
        'On the Overview page, copy the Application (client) ID and the Directory (tenant) ID into this entry.',
      ],
      copy: [
        { label: 'Client ID in this entry', value: facts.clientId },
        { label: 'Tenant in this entry', value: facts.tenant },
      ],
      commands: [],
      links: linksOf(fixes.appIds(facts), consentUrl),
      confirmedBy: {
        steps: ['token'],
        how: 'The token step gets a token: the tenant and the client ID exist.',
      },
    },
    {
      id: 'permission',
      title: 'Add the SMTP.SendAsApp application permission',
      instructions: [
        'In the app registration: API permissions → Add a permission → APIs my organization uses → search “Office 365 Exchange Online”.',
        'Choose Application permissions (not Delegated), select SMTP.SendAsApp, and add it.',
      ],
      copy: [
        { label: 'API', value: 'Office 365 Exchange Online' },
        { label: 'Permission', value: 'SMTP.SendAsApp' },
      ],
      commands: [],
      links: linksOf(fixes.adminConsent(facts), consentUrl),
      confirmedBy: { steps: ['claims'], how: 'The claims step finds SMTP.SendAsApp in the token’s roles.' },
    },
    {
      id: 'consent',
      title: 'Grant admin consent',
      instructions: [
        'On API permissions, select “Grant admin consent for <your organization>”, or open the consent link below as a Global Administrator.',
        'Without consent the permission is not in the token, and Exchange answers 535 5.7.3.',
      ],
      copy: [],
      commands: [],
      links: [{ label: 'Admin-consent link for this app', url: consentUrl }],
      confirmedBy: {
        steps: ['claims'],
        how: 'The claims step finds roles: ["SMTP.SendAsApp"] — present only after consent.',
      },
    },
    {
      id: 'credential',
      title: 'Create a client secret or upload a certificate',
      instructions: [
        'Certificates & secrets → Client secrets → New client secret: copy its Value (not the Secret ID) into this entry at once — it is shown only once.',
        'Or, recommended: create a certificate (the command below, on Windows), Certificates → Upload certificate (the public .cer/.pem), then upload the PEM pair or PFX to this entry; the thumbprints must match.',
      ],
      copy: [],
      commands: commandsOf(fixes.certificateRecommended(facts)),
      links: linksOf(fixes.certificateRecommended(facts)),
      confirmedBy: {
        steps: ['token'],
        how: 'The token step succeeds: the secret or certificate is accepted (no AADSTS7000215/7000222/700027).',
      },
    },
    {
      id: 'service-principal',
      title: 'Register the service principal in Exchange Online',
      instructions: [
        'In PowerShell with the ExchangeOnlineManagement module installed, connect to Exchange Online as an administrator.',
        'Use the Object ID from Enterprise applications (not from App registrations — a different id). After a token test this page fills it from the token’s oid claim.',
      ],
      copy: [{ label: 'Application ID', value: facts.clientId }],
      commands: commandsOf(fixes.servicePrincipal(facts)),
      links: linksOf(fixes.servicePrincipal(facts)),
      confirmedBy: {
        steps: ['auth'],
        how: 'The AUTH step gets 235: Exchange knows the app (else 535 5.7.3).',
      },
    },
    {
      id: 'mailbox-permission',
      title: 'Give the service principal access to the mailbox',
      instructions: [
        'Get-ServicePrincipal lists the registered principal; put its Identity (or ExchangeObjectId) where the commands say <SERVICE_PRINCIPAL_ID>.',
        'Grant FullAccess on the mailbox the entry signs in as.',
        ...(sendsAsAnother ? ['The entry sends From another address: grant SendAs on it too.'] : []),
      ],
      copy: [{ label: 'Mailbox', value: facts.mailbox }],
      commands: commandsOf(...mailboxFixes),
      links: linksOf(fixes.mailboxPermission(facts)),
      confirmedBy: {
        steps: ['mail', 'message'],
        how: 'The sender/recipient and message steps (run with a test recipient) pass: the mailbox opens (else 430 4.2.0 … Cannot open mailbox).',
      },
    },
    {
      id: 'smtp-auth',
      title: 'Enable SMTP AUTH for the mailbox',
      instructions: [
        'SMTP AUTH is off by default in many tenants. Enable it for this mailbox; the per-mailbox setting overrides the tenant’s.',
        'Only if your organisation allows it everywhere: enable it tenant-wide (last command).',
      ],
      copy: [{ label: 'Mailbox', value: facts.mailbox }],
      commands: commandsOf(fixes.smtpAuthTenant(facts)),
      links: linksOf(fixes.smtpAuthTenant(facts)),
      confirmedBy: {
        steps: ['auth'],
        how: 'The AUTH step gets 235 (else 535 5.7.139 SmtpClientAuthentication is disabled).',
      },
    },
  ];
}

export type GuideStatus = 'confirmed' | 'failing' | 'warning' | 'not-reached' | 'unknown';

/** What the last diagnostics say about a guide step: the worst status of the steps that confirm it. */
export function guideStatus(step: GuideStep, diagnostics: DiagnosticStep[] | undefined): GuideStatus {
  if (!diagnostics) return 'unknown';
  const matches = diagnostics.filter((d) => step.confirmedBy.steps.includes(d.id));
  if (matches.length === 0) return 'unknown';
  const worst = (statuses: StepStatus[]): GuideStatus => {
    if (statuses.includes('fail')) return 'failing';
    if (statuses.includes('skipped')) return 'not-reached';
    if (statuses.includes('warn')) return 'warning';
    return 'confirmed';
  };
  return worst(matches.map((m) => m.status));
}
