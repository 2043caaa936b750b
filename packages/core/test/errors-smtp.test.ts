import { describe, expect, it } from 'vitest';
import { errorFromSmtpReply } from '../src/errors/index.js';

const ctx = {
  tenant: 'contoso.onmicrosoft.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  mailbox: 'noreply@contoso.com',
  from: 'sales@contoso.com',
};

// Exact texts from the reference §3 (both variants where two exist).
const replies = [
  [
    '535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]',
    'SMTP_AUTH_REJECTED',
    false,
  ],
  [
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
    'SMTP_AUTH_DISABLED',
    false,
  ],
  [
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
    'SMTP_AUTH_DISABLED',
    false,
  ],
  [
    "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
    'SMTP_SECURITY_DEFAULTS',
    false,
  ],
  [
    '504 5.7.4 Unrecognized authentication type [AM0PR02CA0001.eurprd02.prod.outlook.com 2026-11-26T10:00:00.000Z 08DD1234ABCD5678]',
    'SMTP_AUTH_MECHANISM_UNSUPPORTED',
    false,
  ],
  ['530 5.7.57 Client not authenticated to send mail.', 'SMTP_NOT_AUTHENTICATED', false],
  [
    '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message Cannot open mailbox.',
    'SMTP_MAILBOX_LOGON_FAILED',
    false, // a missing Add-MailboxPermission: retrying cannot fix it
  ],
  [
    '554 5.2.252 SendAsDenied; noreply@contoso.com not allowed to send as sales@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.',
    'SMTP_SEND_AS_DENIED',
    false,
  ],
  [
    '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.',
    'SMTP_SEND_AS_DENIED',
    false,
  ],
  ['432 4.3.2 Concurrent connections limit exceeded.', 'SMTP_CONCURRENCY_LIMIT', true],
  ['432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded', 'SMTP_CONCURRENCY_LIMIT', true],
  ['554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException', 'SMTP_QUOTA_EXCEEDED', false],
  [
    '554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded',
    'SMTP_MAILBOX_FULL',
    false,
  ],
  [
    '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    'SMTP_BASIC_AUTH_DISABLED',
    false,
  ],
  [
    '550 5.7.30 Basic authentication is not supported for Client Submission.',
    'SMTP_BASIC_AUTH_DISABLED',
    false,
  ],
  [
    '421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2.',
    'SMTP_TRANSIENT',
    true,
  ],
  ['451 4.7.500 Server busy. Please try again later.', 'SMTP_TRANSIENT', true],
  [
    '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    'SMTP_REJECTED',
    false,
  ],
  ['552 5.3.4 Message size exceeds fixed maximum message size', 'MESSAGE_TOO_LARGE', false],
] as const;

describe('errorFromSmtpReply', () => {
  it.each(replies)('%s → %s', (response, code, transient) => {
    const err = errorFromSmtpReply({ code: Number(response.slice(0, 3)), response, command: 'X' }, ctx);
    expect(err.code).toBe(code);
    expect(err.transient).toBe(transient);
    expect(err.details.reply).toBe(response);
    expect(err.message).toContain(response);
  });

  it('works without the numeric code, reading it from the reply', () => {
    const err = errorFromSmtpReply({ response: '535 5.7.3 Authentication unsuccessful [HOST]' });
    expect(err.code).toBe('SMTP_AUTH_REJECTED');
    expect(err.details).toMatchObject({ smtpCode: 535, enhancedCode: '5.7.3' });
  });

  it('535 5.7.3 names admin consent URL, New-ServicePrincipal pitfall and the scope', () => {
    const err = errorFromSmtpReply(
      { code: 535, response: '535 5.7.3 Authentication unsuccessful [HOST]' },
      ctx,
    );
    expect(err.hint).toContain(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=11111111-2222-3333-4444-555555555555',
    );
    expect(err.hint).toContain('SMTP.SendAsApp');
    expect(err.hint).toContain(
      'New-ServicePrincipal -AppId 11111111-2222-3333-4444-555555555555 -ObjectId <Enterprise Application object id>',
    );
    expect(err.hint).toContain("not the app registration's object id");
    expect(err.hint).toContain('https://outlook.office365.com/.default');
  });

  it('430 4.2.0 gives Add-MailboxPermission with the mailbox filled in', () => {
    const err = errorFromSmtpReply({ code: 430, response: replies[6][0] }, ctx);
    expect(err.hint).toContain(
      'Add-MailboxPermission -Identity "noreply@contoso.com" -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess',
    );
  });

  it('5.7.139 (mailbox) gives Set-CASMailbox and the tenant-wide switch', () => {
    const err = errorFromSmtpReply({ code: 535, response: replies[2][0] }, ctx);
    expect(err.hint).toContain(
      'Set-CASMailbox -Identity "noreply@contoso.com" -SmtpClientAuthenticationDisabled $false',
    );
    expect(err.hint).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $false');
    expect(err.details.disabledFor).toBe('mailbox');
  });

  it('5.7.139 (tenant) leads with the tenant-wide switch', () => {
    const err = errorFromSmtpReply({ code: 535, response: replies[1][0] }, ctx);
    expect(err.details.disabledFor).toBe('tenant');
    expect(err.hint.indexOf('Set-TransportConfig')).toBeLessThan(err.hint.indexOf('Set-CASMailbox'));
  });

  it('5.2.252 gives Add-RecipientPermission with the From filled in', () => {
    const err = errorFromSmtpReply({ code: 554, response: replies[7][0] }, ctx);
    expect(err.hint).toContain(
      'Add-RecipientPermission -Identity "sales@contoso.com" -Trustee <SERVICE_PRINCIPAL_ID> -AccessRights SendAs',
    );
  });

  it('does not confuse the submission quota with a full mailbox', () => {
    // "SubmissionQuotaExceededException" contains "QuotaExceededException".
    expect(errorFromSmtpReply({ response: replies[11][0] }).code).toBe('SMTP_QUOTA_EXCEEDED');
  });

  it('4xx is transient, 5xx permanent (S9)', () => {
    expect(errorFromSmtpReply({ response: '450 4.2.1 try later' }).transient).toBe(true);
    expect(errorFromSmtpReply({ response: '554 5.6.0 no' }).transient).toBe(false);
  });

  it('never echoes a token the server reflected, nor the AUTH argument', () => {
    const blob = Buffer.from('user=a@b.c\x01auth=Bearer eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln\x01\x01').toString(
      'base64',
    );
    const err = errorFromSmtpReply({
      response: `501 5.5.4 Invalid arguments ${blob}`,
      command: `AUTH XOAUTH2 ${blob}`,
    });
    const json = JSON.stringify(err);
    expect(json).not.toContain(blob);
    expect(err.details.command).toBe('AUTH XOAUTH2');
  });

  // Regression: replies to AUTH were classified by code alone, so HVE's 501 5.5.127 became
  // SMTP_REJECTED with a hint about "the refused recipient or policy" (CLI exit 5, server 502).
  describe('classified by the command as well as the code', () => {
    const auth = (response: string, server?: 'exchange' | 'other') =>
      errorFromSmtpReply({ response, command: 'AUTH XOAUTH2', ...(server ? { server } : {}) }, ctx);

    it.each([
      ['501 5.5.127 Invalid XOAUTH2 auth data - Token will expire soon', 'SMTP_AUTH_TOKEN_EXPIRING', false],
      [
        '501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid',
        'SMTP_AUTH_USER_INVALID',
        false,
      ],
      [
        '550 5.7.30 Basic authentication is not supported for Client Submission.',
        'SMTP_BASIC_AUTH_DISABLED',
        false,
      ],
      [
        '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
        'SMTP_BASIC_AUTH_DISABLED',
        false,
      ],
      ['454 4.7.0 Temporary authentication failure', 'SMTP_AUTH_TEMPORARY_FAILURE', true],
      ['500 5.5.2 Line too long', 'SMTP_AUTH_REJECTED', false],
      ['501 5.5.4 Invalid arguments', 'SMTP_AUTH_REJECTED', false],
      ['432 4.3.2 Concurrent connections limit exceeded.', 'SMTP_CONCURRENCY_LIMIT', true],
      ['421 4.3.2 Service not available, closing transmission channel', 'SMTP_SERVICE_UNAVAILABLE', true],
      ['504 5.7.4 Unrecognized authentication type', 'SMTP_AUTH_MECHANISM_UNSUPPORTED', false],
    ])('a reply to AUTH %s → %s', (response, code, transient) => {
      const err = auth(response);
      expect(err.code).toBe(code);
      expect(err.transient).toBe(transient);
      expect(err.hint).not.toMatch(/recipient/);
    });

    it('the same replies to other commands keep their meaning', () => {
      expect(errorFromSmtpReply({ response: '500 5.5.2 Line too long', command: 'MAIL FROM' }).code).toBe(
        'SMTP_REJECTED',
      );
      expect(errorFromSmtpReply({ response: '454 4.7.0 try later', command: 'RCPT TO' }).code).toBe(
        'SMTP_TRANSIENT',
      );
    });

    it('421 4.3.2 is an outage, wherever it comes; 432 4.3.2 is the connection limit', () => {
      expect(errorFromSmtpReply({ response: '421 4.3.2 Service not available' }).code).toBe(
        'SMTP_SERVICE_UNAVAILABLE',
      );
      expect(errorFromSmtpReply({ response: '432 4.3.2 Concurrent connections limit exceeded.' }).code).toBe(
        'SMTP_CONCURRENCY_LIMIT',
      );
    });

    it('5.5.124 names the configured user and how to find the primary address', () => {
      const err = auth('501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid');
      expect(err.hint).toContain('noreply@contoso.com');
      expect(err.hint).toContain('Get-Mailbox');
    });

    it('a server that is not Exchange gets a hint about the token and its own policy, no PowerShell', () => {
      const err = auth('535 5.7.8 Authentication failed', 'other');
      expect(err.code).toBe('SMTP_AUTH_REJECTED');
      expect(err.hint).toMatch(/token/);
      expect(err.hint).toMatch(/this server's own OAuth2 policy/);
      expect(err.hint).not.toMatch(/New-ServicePrincipal|Add-MailboxPermission|PowerShell|Set-/);
      expect(auth('501 5.5.124 User address provided is not valid', 'other').hint).not.toContain(
        'Get-Mailbox',
      );
    });
  });
});
