/**
 * The one home of Microsoft setup text: admin-consent URL, scope, token endpoint and the Exchange
 * Online PowerShell lines, each written for the entry's cloud (reference §6). Error hints
 * (`errors/`), the doctor's fixes and the setup guide all build their text here, so a GCC High or
 * China entry never gets the global consent URL or scope. Pure and browser-safe: no `node:*`.
 */
import { expectObject } from '../internal/guard.js';
import { type EntraCloud, entraClouds } from '../config/microsoft.js';

export const TENANT_PLACEHOLDER = '<TENANT_ID>';
export const CLIENT_ID_PLACEHOLDER = '<CLIENT_ID>';
export const SERVICE_PRINCIPAL_PLACEHOLDER = '<SERVICE_PRINCIPAL_ID>';
export const ENTERPRISE_OBJECT_ID_PLACEHOLDER = '<Enterprise Application object id>';

const or = (value: string | undefined, placeholder: string): string =>
  value && value.length > 0 ? value : placeholder;

/** Who the text is for: the cloud, and the ids the user has (placeholders where missing). */
export interface SetupTarget {
  /** @default 'global' */
  cloud?: EntraCloud | undefined;
  tenant?: string | undefined;
  clientId?: string | undefined;
}

const info = (t: SetupTarget) => entraClouds[t.cloud ?? 'global'];

/**
 * The admin-consent URL of the app in the tenant, on the cloud's login host
 * (learn.microsoft.com, "Grant tenant-wide admin consent": `/{tenant}/adminconsent?client_id=`).
 */
export function consentUrl(t: SetupTarget): string {
  expectObject(t, 'target');
  return `https://${info(t).loginHost}/${or(t.tenant, TENANT_PLACEHOLDER)}/adminconsent?client_id=${or(t.clientId, CLIENT_ID_PLACEHOLDER)}`;
}

/** The SMTP scope of the cloud, e.g. `https://outlook.office365.us/.default` for GCC High. */
export function smtpScope(t: SetupTarget): string {
  expectObject(t, 'target');
  return info(t).scope;
}

/** Every cloud's SMTP scope, global first: for a hint when the entry's cloud is not known. */
export function smtpScopesOfAllClouds(): string {
  const [first, ...rest] = Object.values(entraClouds);
  return `${first?.scope} (${rest.map((c) => `${c.label}: ${c.scope}`).join('; ')})`;
}

/** The v2.0 token endpoint of the tenant on the cloud's login host. */
export function tokenEndpointUrl(t: SetupTarget): string {
  expectObject(t, 'target');
  return `https://${info(t).loginHost}/${or(t.tenant, TENANT_PLACEHOLDER)}/oauth2/v2.0/token`;
}

/** A one-line description of the cloud's values, for hints about a cloud mix. */
export function cloudSummary(t: SetupTarget): string {
  expectObject(t, 'target');
  const c = info(t);
  return `${c.label}: token endpoint ${tokenEndpointUrl(t)}, scope ${c.scope}, SMTP host ${c.smtpHost}`;
}

/** Exchange Online PowerShell, one line each, for the cloud. */
export const powershell = {
  /** An admin signs in interactively (-UserPrincipalName); -Organization is for app-only sign-in. */
  connect(t: SetupTarget): string {
    const env = info(t).exchangeEnvironment;
    return `Connect-ExchangeOnline -UserPrincipalName <admin@your-tenant>${env ? ` -ExchangeEnvironmentName ${env}` : ''}`;
  },
  findServicePrincipal(t: SetupTarget): string {
    return `Get-ServicePrincipal | Where-Object AppId -eq '${or(t.clientId, CLIENT_ID_PLACEHOLDER)}' | Format-List`;
  },
  newServicePrincipal(t: SetupTarget, objectId: string = ENTERPRISE_OBJECT_ID_PLACEHOLDER): string {
    return `New-ServicePrincipal -AppId ${or(t.clientId, CLIENT_ID_PLACEHOLDER)} -ObjectId ${objectId}`;
  },
  addMailboxPermission(
    mailbox: string | undefined,
    servicePrincipal = SERVICE_PRINCIPAL_PLACEHOLDER,
  ): string {
    return `Add-MailboxPermission -Identity "${or(mailbox, '<mailbox>')}" -User ${servicePrincipal} -AccessRights FullAccess`;
  },
  addRecipientPermission(from: string | undefined, servicePrincipal = SERVICE_PRINCIPAL_PLACEHOLDER): string {
    return `Add-RecipientPermission -Identity "${or(from, '<from>')}" -Trustee ${servicePrincipal} -AccessRights SendAs`;
  },
  enableSmtpAuthMailbox(mailbox: string | undefined): string {
    return `Set-CASMailbox -Identity "${or(mailbox, '<mailbox>')}" -SmtpClientAuthenticationDisabled $false`;
  },
  enableSmtpAuthTenant(): string {
    return 'Set-TransportConfig -SmtpClientAuthenticationDisabled $false';
  },
} as const;
