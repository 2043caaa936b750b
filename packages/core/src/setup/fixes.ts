/**
 * The admin guide's setup steps as fixes, with the user's own values filled in, so what the doctor
 * prints can be pasted into Exchange Online PowerShell or a browser as is.
 */
import {
  cloudOfLoginHost,
  type EntraCloud,
  entraClouds,
  isEntraLoginHost,
  parseEntraTokenEndpoint,
} from '../config/microsoft.js';
import type { DiagnosticFix, DiagnosticLink } from './types.js';

const SP_PLACEHOLDER = '<SERVICE_PRINCIPAL_ID>';
const ENTERPRISE_OBJECT_ID_PLACEHOLDER = '<Enterprise Application object id>';

/** The user's values the fixes are written with. */
export interface FixValues {
  tenant: string;
  clientId: string;
  mailbox: string;
  from: string;
  /** Login host of the user's cloud, for the admin-consent URL. */
  loginHost: string;
  /** The SMTP scope of the user's cloud. */
  expectedScope: string;
  scope: string | undefined;
  /** The Enterprise Application's object id, once a token showed it (`oid`). */
  servicePrincipalObjectId?: string;
  /** `Connect-ExchangeOnline -ExchangeEnvironmentName` for national clouds. */
  exchangeEnvironment?: string;
}

/** Exchange Online PowerShell's name for each national cloud (the global one needs none). */
const EXCHANGE_ENVIRONMENT: Partial<Record<EntraCloud, string>> = {
  usGovernment: 'O365USGovGCCHigh',
  china: 'O365China',
};

/**
 * The parts of an entry the fix values are read from. A validated `EmailServerConfig` fits, and so
 * does its redacted form (`PublicEmailServerConfig`, what an API returns): no secret is needed.
 */
export interface FixSource {
  /** The mailbox that signs in. */
  user: string;
  auth:
    | { type: 'oauth2'; tokenEndpoint: string; clientId: string; scope?: string | undefined }
    | { type: 'password' | 'none' };
}

/** Derives the fix values from an entry (validated, or as an API shows it). */
export function fixValues(config: FixSource, from: string): FixValues {
  const auth = config.auth.type === 'oauth2' ? config.auth : undefined;
  let loginHost: string = entraClouds.global.loginHost;
  let expectedScope: string = entraClouds.global.scope;
  let tenant: string | undefined;
  let exchangeEnvironment: string | undefined;
  if (auth) {
    tenant = parseEntraTokenEndpoint(auth.tokenEndpoint)?.tenant;
    try {
      const host = new URL(auth.tokenEndpoint).hostname;
      const cloud = cloudOfLoginHost(host);
      if (cloud) {
        exchangeEnvironment = EXCHANGE_ENVIRONMENT[cloud];
        expectedScope = entraClouds[cloud].scope;
        loginHost = isEntraLoginHost(host) ? entraClouds[cloud].loginHost : loginHost;
      }
    } catch {
      // An unparsable endpoint is reported by the config step; keep the global defaults.
    }
  }
  return {
    tenant: tenant ?? '<TENANT_ID>',
    clientId: auth?.clientId ?? '<CLIENT_ID>',
    mailbox: config.user,
    from,
    loginHost,
    expectedScope,
    scope: auth?.scope,
    ...(exchangeEnvironment && { exchangeEnvironment }),
  };
}

// An admin signs in interactively (-UserPrincipalName); -Organization is for app-only sign-in.
const connect = (v: FixValues) =>
  `Connect-ExchangeOnline -UserPrincipalName <admin@your-tenant>${v.exchangeEnvironment ? ` -ExchangeEnvironmentName ${v.exchangeEnvironment}` : ''}`;
const findSp = (v: FixValues) =>
  `Get-ServicePrincipal | Where-Object AppId -eq '${v.clientId}' | Format-List`;

/** The admin-consent URL of the app in the user's tenant and cloud. */
export function adminConsentUrl(v: FixValues): string {
  return `https://${v.loginHost}/${v.tenant}/adminconsent?client_id=${v.clientId}`;
}

function appPortalLink(v: FixValues, page: 'Credentials' | 'CallAnAPI' | 'Overview'): DiagnosticLink {
  return {
    label: `App registration ${v.clientId} (${page === 'Credentials' ? 'Certificates & secrets' : page === 'CallAnAPI' ? 'API permissions' : 'Overview'})`,
    url: `https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/${page}/appId/${v.clientId}`,
  };
}

const OAUTH_DOC: DiagnosticLink = {
  label: 'Microsoft: Authenticate SMTP with OAuth (client credentials)',
  url: 'https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth',
};

/**
 * The admin guide's setup steps, each as a fix with the user's values filled in: the doctor attaches
 * them to failing steps, and a setup guide (the WebAdmin's) shows them as its checklist.
 */
export const fixes = {
  adminConsent(v: FixValues): DiagnosticFix {
    return {
      summary: `Add the application permission Office 365 Exchange Online > SMTP.SendAsApp to app ${v.clientId} and grant admin consent for the tenant (a Global or Privileged Role Administrator opens the consent URL). Without consent the token carries no roles and Exchange answers 535 5.7.3.`,
      links: [
        { label: 'Grant admin consent', url: adminConsentUrl(v) },
        appPortalLink(v, 'CallAnAPI'),
        OAUTH_DOC,
      ],
    };
  },

  servicePrincipal(v: FixValues): DiagnosticFix {
    const objectId = v.servicePrincipalObjectId ?? ENTERPRISE_OBJECT_ID_PLACEHOLDER;
    return {
      summary: `Register the app's service principal in Exchange Online with the Enterprise Application's object id${v.servicePrincipalObjectId ? ` (${v.servicePrincipalObjectId}, the token's oid claim)` : ''}. Pitfall: use the object id shown under Enterprise applications, not the app registration's object id — with the wrong one Exchange keeps answering 535 5.7.3. If Get-ServicePrincipal already lists the app with another ObjectId, remove that entry first (Remove-ServicePrincipal -Identity <its Identity>).`,
      commands: [connect(v), findSp(v), `New-ServicePrincipal -AppId ${v.clientId} -ObjectId ${objectId}`],
      links: [
        {
          label: 'Enterprise applications (object id)',
          url: `https://entra.microsoft.com/#view/Microsoft_AAD_IAM/StartboardApplicationsMenuBlade/~/AppAppsPreview/menuId~/null/searchQuery/${v.clientId}`,
        },
        OAUTH_DOC,
      ],
    };
  },

  mailboxPermission(v: FixValues): DiagnosticFix {
    return {
      summary: `Give the service principal FullAccess to the mailbox ${v.mailbox}. ${SP_PLACEHOLDER} is the service principal's id from Get-ServicePrincipal (ExchangeObjectId / Identity).`,
      commands: [
        connect(v),
        findSp(v),
        `Add-MailboxPermission -Identity "${v.mailbox}" -User ${SP_PLACEHOLDER} -AccessRights FullAccess`,
      ],
      links: [OAUTH_DOC],
    };
  },

  smtpAuthMailbox(v: FixValues): DiagnosticFix {
    return {
      summary: `Enable SMTP AUTH for the mailbox ${v.mailbox}.`,
      commands: [
        connect(v),
        `Set-CASMailbox -Identity "${v.mailbox}" -SmtpClientAuthenticationDisabled $false`,
      ],
      links: [{ label: 'Enable or disable SMTP AUTH', url: 'https://aka.ms/smtp_auth_disabled' }],
    };
  },

  smtpAuthTenant(v: FixValues): DiagnosticFix {
    return {
      summary: `SMTP AUTH is disabled for the whole tenant. Enable it for the mailbox ${v.mailbox} (a per-mailbox setting overrides the tenant's), or tenant-wide.`,
      commands: [
        connect(v),
        `Set-CASMailbox -Identity "${v.mailbox}" -SmtpClientAuthenticationDisabled $false`,
        'Set-TransportConfig -SmtpClientAuthenticationDisabled $false',
      ],
      links: [{ label: 'Enable or disable SMTP AUTH', url: 'https://aka.ms/smtp_auth_disabled' }],
    };
  },

  securityDefaults(): DiagnosticFix {
    return {
      summary:
        "The tenant's security defaults block SMTP AUTH. A Global Administrator must turn security defaults off (Entra > Overview > Properties > Manage security defaults) and protect the tenant with Conditional Access instead.",
      links: [
        {
          label: 'Security defaults',
          url: 'https://learn.microsoft.com/entra/fundamentals/security-defaults',
        },
      ],
    };
  },

  sendAs(v: FixValues): DiagnosticFix {
    return {
      summary: `Allow the service principal to send as ${v.from}, or send with From set to the authenticated mailbox ${v.mailbox}.`,
      commands: [
        connect(v),
        findSp(v),
        `Add-RecipientPermission -Identity "${v.from}" -Trustee ${SP_PLACEHOLDER} -AccessRights SendAs`,
      ],
      links: [OAUTH_DOC],
    };
  },

  scope(v: FixValues): DiagnosticFix {
    return {
      summary: `Set auth.scope to ${v.expectedScope}${v.scope ? ` (it is ${v.scope})` : ''}: client credentials need exactly one resource with /.default, and SMTP needs the Exchange resource — a Graph scope yields a token whose audience Exchange refuses.`,
      commands: [`"scope": "${v.expectedScope}"`],
      fields: ['auth.scope'],
    };
  },

  newSecret(v: FixValues, expired: boolean): DiagnosticFix {
    return {
      summary: expired
        ? `The client secrets of app ${v.clientId} have expired. Create a new secret and configure its Value — or switch to a certificate credential, which Microsoft recommends.`
        : `Entra refused the client secret. Configure the secret's Value, not its Secret ID; the Value is shown only once, right after creation — create a new secret if it is lost.`,
      links: [appPortalLink(v, 'Credentials')],
      fields: ['auth.credential.secret'],
    };
  },

  certificate(v: FixValues, thumbprint: string | undefined): DiagnosticFix {
    return {
      summary: `Upload the public certificate to app ${v.clientId} under Certificates & secrets > Certificates${thumbprint ? ` and check the thumbprint listed there is ${thumbprint}` : ''}.`,
      links: [appPortalLink(v, 'Credentials')],
    };
  },

  appIds(v: FixValues): DiagnosticFix {
    return {
      summary: `Copy the Application (client) ID and the Directory (tenant) ID from the app registration's Overview page; the token endpoint must use that tenant (now ${v.tenant}, client ${v.clientId}).`,
      links: [appPortalLink(v, 'Overview'), { label: 'Grant admin consent', url: adminConsentUrl(v) }],
    };
  },

  certificateRecommended(v: FixValues): DiagnosticFix {
    return {
      summary:
        'Create a certificate, upload its public part under Certificates & secrets, and configure auth.credential as { kind: "certificate", certificatePem, privateKeyPem }.',
      commands: [
        '$cert = New-SelfSignedCertificate -Subject "CN=smtp-oauth" -CertStoreLocation Cert:\\CurrentUser\\My -KeyExportPolicy Exportable -KeySpec Signature -KeyLength 2048 -NotAfter (Get-Date).AddYears(2)',
      ],
      links: [appPortalLink(v, 'Credentials')],
    };
  },

  passwordAuth(v: FixValues): DiagnosticFix {
    return {
      summary: `Microsoft is retiring basic (password) SMTP AUTH. Switch the entry to auth.type "oauth2" with an app registration that has SMTP.SendAsApp for ${v.mailbox}.`,
      links: [OAUTH_DOC],
    };
  },
};
