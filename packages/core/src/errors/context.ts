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

export function adminConsentUrl(ctx: ErrorContext): string {
  return `https://login.microsoftonline.com/${or(ctx.tenant, '<TENANT_ID>')}/adminconsent?client_id=${or(ctx.clientId, '<CLIENT_ID>')}`;
}
