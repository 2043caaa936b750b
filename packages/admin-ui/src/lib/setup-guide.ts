/**
 * The Microsoft 365 setup of the admin guide as a checklist: each step with what to copy (filled
 * with the entry's own ids) and which diagnostics step proves it done.
 *
 * The commands are written exactly as core's doctor writes them in its fixes (core/src/doctor/fixes.ts),
 * so the guide and a failing diagnostics step show the same text. Core does not export those
 * builders from a browser-safe entry yet; once it does, take the commands from there.
 */
import type { DiagnosticStep, EmailServer, StepStatus } from '../api/client.js';

export interface GuideFacts {
  tenant?: string | undefined;
  clientId?: string | undefined;
  mailbox?: string | undefined;
  from?: string | undefined;
  /** The service principal's object id: the token's `oid` claim, known after a token test. */
  servicePrincipalObjectId?: string | undefined;
  /** Login host of the entry's cloud, for the admin-consent link. */
  loginHost?: string | undefined;
}

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

// Placeholders as core's fixes write them.
const P = {
  tenant: '<TENANT_ID>',
  clientId: '<CLIENT_ID>',
  mailbox: '<MAILBOX>',
  objectId: '<Enterprise Application object id>',
  sp: '<SERVICE_PRINCIPAL_ID>',
};

/** Facts for the guide from a stored entry (and a token test's claims, if one ran). */
export function guideFacts(server: EmailServer | undefined, claims?: Record<string, unknown>): GuideFacts {
  const auth = server?.config.auth;
  const facts: GuideFacts = { mailbox: server?.config.user, from: server?.config.from };
  if (auth?.type === 'oauth2') {
    facts.clientId = auth.clientId;
    try {
      const url = new URL(auth.tokenEndpoint);
      facts.loginHost = url.hostname;
      facts.tenant = decodeURIComponent(url.pathname.split('/')[1] ?? '') || undefined;
    } catch {
      // Left as placeholders.
    }
  }
  if (typeof claims?.oid === 'string') facts.servicePrincipalObjectId = claims.oid;
  if (typeof claims?.tid === 'string' && !facts.tenant) facts.tenant = claims.tid;
  return facts;
}

const quote = (s: string) => `"${s.replace(/"/g, '`"')}"`;

/** The admin-consent URL for the tenant and app (opens the consent prompt for a Global Administrator). */
export function adminConsentUrl(facts: GuideFacts): string {
  const host =
    facts.loginHost && /^login\./.test(facts.loginHost) ? facts.loginHost : 'login.microsoftonline.com';
  return `https://${host}/${encodeURIComponent(facts.tenant ?? P.tenant)}/adminconsent?client_id=${encodeURIComponent(facts.clientId ?? P.clientId)}`;
}

export function guideSteps(facts: GuideFacts): GuideStep[] {
  const tenant = facts.tenant ?? P.tenant;
  const clientId = facts.clientId ?? P.clientId;
  const mailbox = facts.mailbox ?? P.mailbox;
  const spId = facts.servicePrincipalObjectId ?? P.sp;
  const objectId = facts.servicePrincipalObjectId ?? P.objectId;
  const sendAs =
    facts.from && facts.mailbox && facts.from.toLowerCase() !== facts.mailbox.toLowerCase()
      ? [`Add-RecipientPermission -Identity ${quote(facts.from)} -Trustee ${spId} -AccessRights SendAs`]
      : [];

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
        { label: 'Client ID in this entry', value: clientId },
        { label: 'Tenant in this entry', value: tenant },
      ],
      commands: [],
      links: [{ label: 'Microsoft Entra admin center', url: 'https://entra.microsoft.com/' }],
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
      links: [],
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
      links: [{ label: 'Admin-consent link for this app', url: adminConsentUrl(facts) }],
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
        'Or, recommended: Certificates → Upload certificate (the public .cer/.pem), then upload the PEM pair or PFX to this entry; the thumbprints must match.',
      ],
      copy: [],
      commands: [],
      links: [],
      confirmedBy: {
        steps: ['token'],
        how: 'The token step succeeds: the secret or certificate is accepted (no AADSTS7000215/7000222/700027).',
      },
    },
    {
      id: 'service-principal',
      title: 'Register the service principal in Exchange Online',
      instructions: [
        'In PowerShell, connect to Exchange Online as an administrator.',
        'Use the Object ID from Enterprise applications (not from App registrations — a different id). After a token test this page fills it from the token’s oid claim.',
      ],
      copy: [{ label: 'Application ID', value: clientId }],
      commands: [
        'Install-Module -Name ExchangeOnlineManagement',
        'Import-Module ExchangeOnlineManagement',
        `Connect-ExchangeOnline -Organization ${tenant}`,
        `Get-ServicePrincipal | Where-Object AppId -eq '${clientId}' | Format-List`,
        `New-ServicePrincipal -AppId ${clientId} -ObjectId ${objectId}`,
      ],
      links: [],
      confirmedBy: {
        steps: ['auth'],
        how: 'The AUTH step gets 235: Exchange knows the app (else 535 5.7.3).',
      },
    },
    {
      id: 'mailbox-permission',
      title: 'Give the service principal access to the mailbox',
      instructions: [
        'Get-ServicePrincipal lists the registered principal; its ObjectId (or ExchangeObjectId) identifies it.',
        'Grant FullAccess on the mailbox the entry signs in as.',
        ...(sendAs.length ? ['The entry sends From another address: grant SendAs on it too.'] : []),
      ],
      copy: [{ label: 'Mailbox', value: mailbox }],
      commands: [
        `Get-ServicePrincipal | Where-Object AppId -eq '${clientId}' | Format-List`,
        `Add-MailboxPermission -Identity ${quote(mailbox)} -User ${spId} -AccessRights FullAccess`,
        ...sendAs,
      ],
      links: [],
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
      copy: [{ label: 'Mailbox', value: mailbox }],
      commands: [
        `Set-CASMailbox -Identity ${quote(mailbox)} -SmtpClientAuthenticationDisabled $false`,
        'Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled',
        'Set-TransportConfig -SmtpClientAuthenticationDisabled $false',
      ],
      links: [{ label: 'Microsoft: enable SMTP AUTH', url: 'https://aka.ms/smtp_auth_disabled' }],
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
