/**
 * The admin guide's setup steps as fixes, with the user's own values filled in, so what the doctor
 * prints can be pasted into Exchange Online PowerShell or a browser as is.
 */
import { entryCloud } from '../config/cloud.js';
import {
  cloudOfLoginHost,
  type EntraCloud,
  entraClouds,
  parseEntraTokenEndpoint,
} from '../config/microsoft.js';
import {
  consentUrl,
  ENTERPRISE_OBJECT_ID_PLACEHOLDER,
  powershell,
  SERVICE_PRINCIPAL_PLACEHOLDER as SP_PLACEHOLDER,
  type SetupTarget,
  tokenEndpointUrl,
} from './builders.js';
import type { DiagnosticFix, DiagnosticLink } from './types.js';
import { expectObject, expectString } from '../internal/guard.js';

/** The user's values the fixes are written with. */
export interface FixValues {
  tenant: string;
  clientId: string;
  mailbox: string;
  from: string;
  /** The entry's Microsoft cloud (from token endpoint, scope and SMTP host). @default 'global' */
  cloud?: EntraCloud;
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

/**
 * The parts of an entry the fix values are read from. A validated `EmailServerConfig` fits, and so
 * does its redacted form (`PublicEmailServerConfig`, what an API returns): no secret is needed.
 */
export interface FixSource {
  /** The mailbox that signs in. */
  user: string;
  /** The SMTP host: it names the cloud too (smtp.office365.us is GCC High). */
  host?: string;
  auth:
    | { type: 'oauth2'; tokenEndpoint: string; clientId: string; scope?: string | undefined }
    | { type: 'password' | 'none' };
}

/** Derives the fix values from an entry (validated, or as an API shows it). */
export function fixValues(config: FixSource, from: string): FixValues {
  expectObject(config, '(config)');
  expectObject(config.auth, 'auth');
  const auth = config.auth.type === 'oauth2' ? config.auth : undefined;
  const cloud =
    entryCloud({ host: config.host, tokenEndpoint: auth?.tokenEndpoint, scope: auth?.scope }).cloud ??
    'global';
  const info = entraClouds[cloud];
  const tenant = auth ? parseEntraTokenEndpoint(auth.tokenEndpoint)?.tenant : undefined;
  return {
    tenant: tenant ?? '<TENANT_ID>',
    clientId: auth?.clientId ?? '<CLIENT_ID>',
    mailbox: config.user,
    from,
    cloud,
    loginHost: info.loginHost,
    expectedScope: info.scope,
    scope: auth?.scope,
    ...(info.exchangeEnvironment && { exchangeEnvironment: info.exchangeEnvironment }),
  };
}

const target = (v: FixValues): SetupTarget => ({
  cloud: v.cloud ?? cloudOfLoginHost(v.loginHost) ?? 'global',
  tenant: v.tenant,
  clientId: v.clientId,
});
const connect = (v: FixValues) => powershell.connect(target(v));
const findSp = (v: FixValues) => powershell.findServicePrincipal(target(v));

/** The admin-consent URL of the app in the user's tenant and cloud. */
export function adminConsentUrl(v: FixValues): string {
  expectObject(v, 'values');
  expectString(v.tenant, 'values.tenant');
  expectString(v.clientId, 'values.clientId');
  return consentUrl(target(v));
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
      commands: [connect(v), findSp(v), powershell.newServicePrincipal(target(v), objectId)],
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
      commands: [connect(v), findSp(v), powershell.addMailboxPermission(v.mailbox)],
      links: [OAUTH_DOC],
    };
  },

  smtpAuthMailbox(v: FixValues): DiagnosticFix {
    return {
      summary: `Enable SMTP AUTH for the mailbox ${v.mailbox}.`,
      commands: [connect(v), powershell.enableSmtpAuthMailbox(v.mailbox)],
      links: [{ label: 'Enable or disable SMTP AUTH', url: 'https://aka.ms/smtp_auth_disabled' }],
    };
  },

  smtpAuthTenant(v: FixValues): DiagnosticFix {
    return {
      summary: `SMTP AUTH is disabled for the whole tenant. Enable it for the mailbox ${v.mailbox} (a per-mailbox setting overrides the tenant's), or tenant-wide.`,
      commands: [connect(v), powershell.enableSmtpAuthMailbox(v.mailbox), powershell.enableSmtpAuthTenant()],
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
      commands: [connect(v), findSp(v), powershell.addRecipientPermission(v.from)],
      links: [OAUTH_DOC],
    };
  },

  scope(v: FixValues): DiagnosticFix {
    // Regression: never advise the value already configured (a GCC High entry refused with
    // AADSTS500011 was told to "set" the scope it had).
    if (v.scope !== undefined && v.scope.trim().toLowerCase() === v.expectedScope.toLowerCase()) {
      const t = target(v);
      return {
        summary: `The scope is already ${v.expectedScope}, the SMTP scope of the ${entraClouds[t.cloud ?? 'global'].label} cloud, yet tenant ${v.tenant} does not know that resource: check the tenant has Exchange Online in this cloud and that the token endpoint names this tenant (${tokenEndpointUrl(t)}).`,
      };
    }
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
