import { expectString } from '../internal/guard.js';
import { ConfigError } from '../errors/smtp-oauth-error.js';

/** Microsoft clouds with their login host, SMTP scope and SMTP host (reference §6). */
export type EntraCloud = 'global' | 'usGovernment' | 'china';

export interface EntraCloudInfo {
  cloud: EntraCloud;
  /** How Microsoft names the cloud, for messages. */
  label: string;
  loginHost: string;
  /** The SMTP scope: the Exchange Online resource of the cloud with `/.default`. */
  scope: string;
  smtpHost: string;
  /** Graph resource of the cloud; a scope on it yields a token Exchange refuses. */
  graphResource: string;
  /** Host suffixes of the cloud's Exchange Online endpoints (SMTP hosts and scope resources). */
  exchangeSuffixes: readonly string[];
  /** `Connect-ExchangeOnline -ExchangeEnvironmentName`; the global cloud needs none. */
  exchangeEnvironment?: string;
}

export const entraClouds: Readonly<Record<EntraCloud, EntraCloudInfo>> = Object.freeze({
  global: {
    cloud: 'global',
    label: 'Global (Microsoft 365)',
    loginHost: 'login.microsoftonline.com',
    scope: 'https://outlook.office365.com/.default',
    smtpHost: 'smtp-mail.outlook.com',
    graphResource: 'https://graph.microsoft.com',
    exchangeSuffixes: ['outlook.com', 'office365.com', 'office.com'],
  },
  usGovernment: {
    cloud: 'usGovernment',
    label: 'US Government (GCC High)',
    loginHost: 'login.microsoftonline.us',
    scope: 'https://outlook.office365.us/.default',
    smtpHost: 'smtp.office365.us',
    graphResource: 'https://graph.microsoft.us',
    exchangeSuffixes: ['office365.us'],
    exchangeEnvironment: 'O365USGovGCCHigh',
  },
  china: {
    cloud: 'china',
    label: 'China (21Vianet)',
    loginHost: 'login.partner.microsoftonline.cn',
    scope: 'https://partner.outlook.cn/.default',
    smtpHost: 'smtp.partner.outlook.cn',
    graphResource: 'https://microsoftgraph.chinacloudapi.cn',
    exchangeSuffixes: ['outlook.cn'],
    exchangeEnvironment: 'O365China',
  },
});

const MICROSOFT_SMTP_SUFFIXES = Object.values(entraClouds).flatMap((c) => c.exchangeSuffixes);
const ENTRA_LOGIN_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.windows.net',
  'sts.windows.net',
]);
const GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn',
]);

/** Tenants that are valid for interactive sign-in but refused for client credentials. */
export const multiTenantAliases = ['common', 'organizations', 'consumers'] as const;

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/** True for Exchange Online SMTP hosts (smtp.office365.com, smtp-mail.outlook.com, GCC High, China). */
export function isMicrosoftHost(host: string): boolean {
  if (typeof host !== 'string') return false;
  const h = normalizeHost(host);
  return MICROSOFT_SMTP_SUFFIXES.some((s) => h === s || h.endsWith(`.${s}`));
}

/** True for Entra (Azure AD) login hosts of any Microsoft cloud. */
export function isEntraLoginHost(host: string): boolean {
  if (typeof host !== 'string') return false;
  return ENTRA_LOGIN_HOSTS.has(normalizeHost(host));
}

/** True when a scope targets Microsoft Graph rather than Exchange. */
export function isGraphScope(scope: string): boolean {
  try {
    return GRAPH_HOSTS.has(new URL(scope).hostname.toLowerCase());
  } catch {
    return false;
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** True for a GUID such as an Application (client) ID or Directory (tenant) ID. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * Checks a tenant for client credentials. Returns `undefined` when valid, else the reason.
 * Valid: a GUID or a domain such as `contoso.onmicrosoft.com`.
 */
export function tenantProblem(tenant: string): string | undefined {
  if (typeof tenant !== 'string')
    return 'tenant must be a string: the Directory (tenant) ID or a verified domain';
  const t = tenant.trim();
  if ((multiTenantAliases as readonly string[]).includes(t.toLowerCase()))
    return `tenant "${t}" cannot be used with client credentials; use your Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com`;
  if (GUID.test(t) || DOMAIN.test(t)) return undefined;
  return 'tenant must be the Directory (tenant) ID GUID or a verified domain such as contoso.onmicrosoft.com';
}

/** True when `tenant` is usable for client credentials. */
export function isValidTenant(tenant: string): boolean {
  return tenantProblem(tenant) === undefined;
}

/**
 * The Entra v2 token endpoint of a cloud and tenant.
 *
 * @example entraTokenEndpoint('global', 'contoso.onmicrosoft.com')
 * // → 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token'
 * @throws ConfigError (path `tenant`) for `common`/`organizations`/`consumers` or a malformed tenant.
 */
export function entraTokenEndpoint(cloud: EntraCloud, tenant: string): string {
  const problem = tenantProblem(tenant);
  if (problem) throw new ConfigError([{ path: 'tenant', message: problem }]);
  const info = entraClouds[cloud];
  if (!info) throw new ConfigError([{ path: 'cloud', message: `unknown cloud ${String(cloud)}` }]);
  return `https://${info.loginHost}/${encodeURIComponent(tenant.trim())}/oauth2/v2.0/token`;
}

/** Splits an Entra token endpoint into tenant and version; `undefined` if the path does not fit. */
export function parseEntraTokenEndpoint(
  url: string | URL,
): { tenant: string; version: 'v1' | 'v2' } | undefined {
  if (typeof url !== 'string' && !(url instanceof URL)) expectString(url, 'tokenEndpoint');
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  const m = /^\/([^/]+)\/oauth2\/(?:(v2\.0)\/)?token\/?$/i.exec(u.pathname);
  if (!m?.[1]) return undefined;
  return { tenant: decodeURIComponent(m[1]), version: m[2] ? 'v2' : 'v1' };
}

/** The cloud a login host belongs to, if it is a Microsoft one. */
export function cloudOfLoginHost(host: string): EntraCloud | undefined {
  expectString(host, 'host');
  const h = normalizeHost(host);
  for (const info of Object.values(entraClouds)) if (info.loginHost === h) return info.cloud;
  if (h === 'login.chinacloudapi.cn') return 'china';
  if (h === 'login.windows.net' || h === 'sts.windows.net') return 'global';
  return undefined;
}
