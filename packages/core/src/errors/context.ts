import { cloudOfScope, cloudOfSmtpHost } from '../config/cloud.js';
import { cloudOfLoginHost, type EntraCloud } from '../config/microsoft.js';
import { consentUrl, type SetupTarget } from '../setup/builders.js';

/** The user's own values, used to fill hints with copy-pasteable commands. All optional. */
export interface ErrorContext {
  /** Tenant id or domain. */
  tenant?: string;
  /** Application (client) id. */
  clientId?: string;
  /** The authenticated mailbox (config `user`). */
  mailbox?: string;
  /** The From address of the message being sent. */
  from?: string;
  /** SMTP host or token endpoint host. */
  host?: string;
  /** Token scope that was requested. */
  scope?: string;
  /**
   * The entry's Microsoft cloud, for consent URLs, scopes and PowerShell lines.
   * @default read from `host` (SMTP or login host), else `scope`, else 'global'
   */
  cloud?: EntraCloud;
  /** The token endpoint's cloud, when it is a Microsoft login host (cross-cloud errors). */
  tokenCloud?: EntraCloud;
  /**
   * Which leg of a send failed: the token endpoint over HTTPS, or SMTP on the entry's port. Network
   * errors name it, so nobody opens port 587 for a token request that needs a proxy.
   */
  leg?: 'token' | 'smtp';
  /** The SMTP port (the `smtp` leg). */
  port?: number;
  /** The proxy the failing leg went through, if any (scheme, host and port; never credentials). */
  proxy?: string;
  /** Clock for Retry-After HTTP dates. @default Date.now */
  now?: () => number;
  /**
   * Secret values of the entry (the SMTP password): removed, with their base64 forms, from any server
   * reply quoted in an error. Never shown.
   */
  secrets?: readonly string[];
}

export const or = (value: string | undefined, placeholder: string): string =>
  value && value.length > 0 ? value : placeholder;

/** The cloud the hints of this context are written for. */
export function contextCloud(ctx: ErrorContext): EntraCloud {
  return (
    ctx.cloud ??
    (ctx.host ? (cloudOfSmtpHost(ctx.host) ?? cloudOfLoginHost(ctx.host)) : undefined) ??
    (ctx.scope ? cloudOfScope(ctx.scope) : undefined) ??
    'global'
  );
}

/** The setup-text target of this context: its cloud and ids. */
export function setupTarget(ctx: ErrorContext): SetupTarget {
  return { cloud: contextCloud(ctx), tenant: ctx.tenant, clientId: ctx.clientId };
}

/** The admin-consent URL in the context's tenant and cloud. */
export function adminConsentUrl(ctx: ErrorContext): string {
  return consentUrl(setupTarget(ctx));
}
