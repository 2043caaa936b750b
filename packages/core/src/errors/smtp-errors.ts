import type { ErrorCode } from './catalog.js';
import { adminConsentUrl, type ErrorContext, or } from './context.js';
import { redactSecrets } from './redact.js';
import { SmtpOAuthError } from './smtp-oauth-error.js';

/** An SMTP failure as nodemailer reports it: numeric code, the server's full reply, the command. */
export interface SmtpReplyInput {
  /** Basic reply code, e.g. 535. Taken from `response` when absent. */
  code?: number;
  /** The server's reply text, e.g. `535 5.7.3 Authentication unsuccessful [...]`. */
  response: string;
  /** The command that got the reply, e.g. `AUTH XOAUTH2`, `MAIL FROM`, `DATA`. */
  command?: string;
  /**
   * Whose policy the hints speak of: `exchange` (Exchange Online: PowerShell steps, Entra consent)
   * or `other` (any other server: the token and that server's own policy).
   * @default 'exchange'
   */
  server?: 'exchange' | 'other';
}

const SP = '<SERVICE_PRINCIPAL_ID>';

function authRejectedHint(c: ErrorContext): string {
  return [
    `Exchange refused the token for ${or(c.mailbox, '<mailbox>')}. Check, in order:`,
    `(1) API permission Office 365 Exchange Online > SMTP.SendAsApp (Application) with admin consent granted — ${adminConsentUrl(c)};`,
    `(2) the service principal is registered in Exchange: New-ServicePrincipal -AppId ${or(c.clientId, '<CLIENT_ID>')} -ObjectId <Enterprise Application object id> — use the object id shown under Enterprise applications, not the app registration's object id;`,
    `(3) Add-MailboxPermission -Identity "${or(c.mailbox, '<mailbox>')}" -User ${SP} -AccessRights FullAccess;`,
    `(4) the scope is https://outlook.office365.com/.default (a Graph scope yields a token with the wrong audience).`,
  ].join(' ');
}

function authDisabledHint(c: ErrorContext, scope: 'tenant' | 'mailbox' | undefined): string {
  const mailbox = `Set-CASMailbox -Identity "${or(c.mailbox, '<mailbox>')}" -SmtpClientAuthenticationDisabled $false`;
  const tenant = 'Set-TransportConfig -SmtpClientAuthenticationDisabled $false';
  if (scope === 'tenant')
    return `SMTP AUTH is disabled for the whole tenant. Enable it tenant-wide with ${tenant}, or per mailbox with ${mailbox}. See https://aka.ms/smtp_auth_disabled`;
  return `Enable SMTP AUTH for the mailbox: ${mailbox} (if the tenant disables it too: ${tenant}). See https://aka.ms/smtp_auth_disabled`;
}

function otherServerAuthHint(c: ErrorContext): string {
  return `The server refused the access token for ${or(c.mailbox, '<user>')}. Check that the token is issued for this server (its audience and scope${c.scope ? `, now ${c.scope}` : ''}), that it is not expired, that the user is the account the token may act for, and what this server's own OAuth2 policy requires (its token validation settings and logs say which check failed).`;
}

/** True when the command was an AUTH command or a SASL continuation line of one. */
function isAuthCommand(command: string | undefined): boolean {
  return !!command && /^AUTH\b/i.test(command.trim());
}

/** Parses `NNN X.Y.Z` from a reply line; tolerates the multi-line `NNN-` form. */
function parseReply(input: SmtpReplyInput): { basic: number | undefined; enhanced: string | undefined } {
  const m = /^\s*(\d{3})[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\b)?/.exec(input.response);
  const basic = input.code ?? (m?.[1] ? Number(m[1]) : undefined);
  const enhanced = m?.[2] ?? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(input.response)?.[1];
  return { basic, enhanced };
}

/**
 * S9: 4xx replies are transient, 5xx permanent — except Exchange's `430 4.2.0 … mailbox logon
 * failure`, which Exchange words as a "transient exception" but which is a missing
 * Add-MailboxPermission: retrying with backoff only delays the error the admin has to fix.
 */
function isTransientReply(code: ErrorCode, basic: number): boolean {
  if (code === 'SMTP_MAILBOX_LOGON_FAILED') return false;
  return basic >= 400 && basic < 500;
}

/**
 * Maps an SMTP server reply to a typed error. Pure: no I/O. Matches Exchange Online's fixed texts
 * (both variants where two exist in the wild), then enhanced and basic status codes.
 * Transience: see isTransientReply.
 */
export function errorFromSmtpReply(input: SmtpReplyInput, ctx: ErrorContext = {}): SmtpOAuthError {
  // Mappers never throw: an unusable input maps like an empty reply.
  if (!input || typeof input.response !== 'string') input = { response: '' };
  const reply = redactSecrets(input.response.trim(), ctx.secrets);
  const { basic, enhanced } = parseReply(input);
  const text = reply.toLowerCase();
  const details: Record<string, unknown> = { reply };
  if (basic !== undefined) details.smtpCode = basic;
  if (enhanced) details.enhancedCode = enhanced;
  if (input.command) details.command = input.command.replace(/^(AUTH\s+\S+)\s+.*/i, '$1');

  const make = (code: ErrorCode, hint?: string, extra?: Record<string, unknown>) =>
    new SmtpOAuthError(code, `SMTP server replied: ${reply}`, {
      details: { ...details, ...extra },
      hint,
      ...(basic !== undefined ? { transient: isTransientReply(code, basic) } : {}),
    });

  const exchange = input.server !== 'other';
  const rejectedHint = exchange ? authRejectedHint(ctx) : otherServerAuthHint(ctx);
  // Outages first, whatever the command: 421 ends the session (RFC 5321 §3.8); Exchange words an
  // outage `421 4.3.2 Service not available`, which is not the connection limit (432 4.3.2).
  if (
    basic === 421 &&
    (enhanced === undefined || /^4\.[34]\./.test(enhanced)) &&
    !text.includes('concurrent connections limit')
  )
    return make('SMTP_SERVICE_UNAVAILABLE');
  if (enhanced === '5.7.139' || text.includes('smtpclientauthentication is disabled')) {
    if (text.includes('security defaults')) return make('SMTP_SECURITY_DEFAULTS');
    if (text.includes('basic authentication is disabled')) return make('SMTP_BASIC_AUTH_DISABLED');
    const scope = text.includes('for the tenant')
      ? 'tenant'
      : text.includes('for the mailbox')
        ? 'mailbox'
        : undefined;
    if (scope || text.includes('smtpclientauthentication'))
      return make(
        'SMTP_AUTH_DISABLED',
        authDisabledHint(ctx, scope),
        scope ? { disabledFor: scope } : undefined,
      );
    return make('SMTP_AUTH_REJECTED', rejectedHint);
  }
  if (enhanced === '5.7.30' || text.includes('basic authentication is not supported'))
    return make('SMTP_BASIC_AUTH_DISABLED');
  // HVE (and sasl-xoauth2's observations): 501 5.5.127 / 5.5.124 answer AUTH, not a syntax error.
  if (enhanced === '5.5.127' || text.includes('token will expire soon'))
    return make('SMTP_AUTH_TOKEN_EXPIRING');
  if (enhanced === '5.5.124' || text.includes('user address provided is not valid'))
    return make(
      'SMTP_AUTH_USER_INVALID',
      `The server does not accept ${or(ctx.mailbox, '<user>')} as the XOAUTH2 user. Set the entry's user to the primary SMTP address of the sending mailbox${exchange ? ' (Get-Mailbox -Identity <mailbox> | Select PrimarySmtpAddress; for High Volume Email the HVE account address)' : ''}.`,
    );
  if (basic === 432 || text.includes('concurrent connections limit') || text.includes('sender thread limit'))
    return make('SMTP_CONCURRENCY_LIMIT');
  // Every other reply to AUTH is about the credentials, never about a recipient or a message.
  if (isAuthCommand(input.command) && basic !== undefined) {
    if (basic === 504 || enhanced === '5.7.4') return make('SMTP_AUTH_MECHANISM_UNSUPPORTED');
    if (basic >= 400 && basic < 500) return make('SMTP_AUTH_TEMPORARY_FAILURE');
    return make('SMTP_AUTH_REJECTED', rejectedHint);
  }
  if (basic === 535) return make('SMTP_AUTH_REJECTED', rejectedHint);
  if (basic === 504 || enhanced === '5.7.4') return make('SMTP_AUTH_MECHANISM_UNSUPPORTED');
  if (basic === 530 || enhanced === '5.7.57') return make('SMTP_NOT_AUTHENTICATED');
  if (
    text.includes('mapiexceptionlogonfailed') ||
    text.includes('mailbox logon failure') ||
    (basic === 430 && enhanced === '4.2.0')
  )
    return make(
      'SMTP_MAILBOX_LOGON_FAILED',
      `The app authenticated but cannot open mailbox ${or(ctx.mailbox, '<mailbox>')}. Grant it: Add-MailboxPermission -Identity "${or(ctx.mailbox, '<mailbox>')}" -User ${SP} -AccessRights FullAccess (${SP} is the ServicePrincipal ID shown by Get-ServicePrincipal). Retrying will not help until then.`,
    );
  if (enhanced === '5.2.252' || text.includes('sendasdenied'))
    return make(
      'SMTP_SEND_AS_DENIED',
      `${or(ctx.mailbox, '<mailbox>')} may not send as ${or(ctx.from, '<from>')}. Grant it: Add-RecipientPermission -Identity "${or(ctx.from, '<from>')}" -Trustee ${SP} -AccessRights SendAs — or send with From set to the authenticated mailbox.`,
    );
  if (text.includes('submissionquotaexceeded')) return make('SMTP_QUOTA_EXCEEDED');
  if (enhanced === '5.2.2' || text.includes('mailbox full') || text.includes('quotaexceededexception'))
    return make(
      'SMTP_MAILBOX_FULL',
      `Free space in mailbox ${or(ctx.mailbox, '<mailbox>')} (Sent Items) or raise its quota.`,
    );
  if (basic === 552 && (enhanced === '5.3.4' || text.includes('size'))) return make('MESSAGE_TOO_LARGE');
  if (basic !== undefined && basic >= 400 && basic < 500) return make('SMTP_TRANSIENT');
  return make('SMTP_REJECTED');
}
