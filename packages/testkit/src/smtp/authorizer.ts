/**
 * The contract between the SMTP protocol layer and whoever decides, as Exchange Online would,
 * whether an OAuth2 client may authenticate, open its mailbox and send as an address. The SMTP
 * server only speaks the protocol and turns each decision into Exchange's exact reply text; the
 * identity knowledge (token signature, claims, directory) lives in the authorizer.
 */

/** Who an accepted token says the client is. Never holds the token itself. */
export interface SmtpIdentity {
  /** The `user=` mailbox from the XOAUTH2/OAUTHBEARER blob, lower-cased. */
  mailbox: string;
  /** `appid` claim. */
  appId: string;
  /** `tid` claim. */
  tenantId: string;
  /** `oid` claim: the Enterprise Application's object id. */
  servicePrincipalObjectId: string;
  /** Exchange's identity of the matched service principal, when the authorizer found one. */
  servicePrincipalIdentity?: string;
}

/** Why AUTH is refused, in Exchange's categories; each maps to one fixed reply. */
export type AuthRefusal =
  /** 535 5.7.3: bad signature, wrong audience, expired, no SMTP.SendAsApp role, no service principal, unknown mailbox. */
  | 'authentication-unsuccessful'
  /** 535 5.7.139 … disabled for the Tenant. */
  | 'smtp-auth-disabled-tenant'
  /** 535 5.7.139 … disabled for the Mailbox. */
  | 'smtp-auth-disabled-mailbox'
  /** 535 5.7.139 … security defaults policy. */
  | 'security-defaults';

export type AuthDecision =
  | { ok: true; identity: SmtpIdentity; reason: string }
  | {
      ok: false;
      refusal: AuthRefusal;
      /** Human-readable cause for the auth-attempt log (e.g. "token has no SMTP.SendAsApp role"). Never the token. */
      reason: string;
      /** What could be decoded from the token, for the log; absent when it was not a JWT. */
      identity?: Partial<SmtpIdentity>;
    };

export interface AuthRequest {
  mechanism: 'XOAUTH2' | 'OAUTHBEARER';
  /** The `user=` (XOAUTH2) or `a=` (OAUTHBEARER) value. */
  user: string;
  /** The bearer token. The authorizer must not log or store it. */
  token: string;
}

export interface SmtpAuthorizer {
  /** Decides an AUTH attempt. */
  authenticate(request: AuthRequest): Promise<AuthDecision>;
  /**
   * May the identity open its mailbox (FullAccess via Add-MailboxPermission)? Exchange checks this
   * when the message is submitted; a refusal becomes `430 4.2.0 STOREDRV; mailbox logon failure …`.
   */
  canOpenMailbox(identity: SmtpIdentity): { ok: boolean; reason: string };
  /**
   * May the identity send with this From address? Its own mailbox is always allowed; another address
   * needs SendAs (Add-RecipientPermission). A refusal becomes `554 5.2.252 SendAsDenied …`.
   */
  canSendAs(identity: SmtpIdentity, fromAddress: string): { ok: boolean; reason: string };
}
