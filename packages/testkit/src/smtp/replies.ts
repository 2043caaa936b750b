/**
 * Reply texts per persona. Everything a client can observe lives here, so fidelity fixes touch one
 * file. Exchange texts are the ones in entra-exchange-behaviour.md §3; Gmail's in §5.
 */
import { randomBytes } from 'node:crypto';
import type { AuthRefusal } from './authorizer.js';

export type SmtpPersona = 'exchange' | 'google';

export interface PersonaReplies {
  greeting(now: number): string;
  ehlo(ip: string, secure: boolean, starttlsOffered: boolean, mechanisms: string[]): string;
  helo(ip: string): string;
  starttlsReady: string;
  authOk: string;
  /** Refusal of a presented token; `challenge` means the persona first answers `334 <json>`. */
  authRefused(refusal: AuthRefusal, now: number): { challenge?: string; final: string };
  basicAuthRefused: string;
  unrecognizedAuth(now: number): string;
  authRequired: string;
  senderOk: string;
  recipientOk: string;
  startData: string;
  accepted(messageId: string, now: number): string;
  mailboxLogonFailure: string;
  sendAsDenied(user: string, from: string, variant: 'current' | 'legacy'): string;
  /** Limit `concurrentConnectionsPerMailbox` (limits.ts says where it is enforced). */
  concurrentLimit: string;
  /** HVE: the presented token expires within about 10 minutes (reference §8). */
  tokenExpiringSoon: string;
  /** HVE: the XOAUTH2 user is not a known address (reference §8). */
  userNotValid: string;
  /** Limit `recipientsPerDay` (limits.ts says where it is enforced). */
  quotaExceeded: string;
  /** Limit `recipientsPerMessage` (limits.ts says where it is enforced). */
  tooManyRecipients: string;
  /** Limit `maxMessageSize` (limits.ts says where it is enforced). */
  sizeExceeded: string;
  tlsTooOld: string;
  timeout: string;
  lineTooLong: string;
  unrecognizedCommand: string;
  sendHelloFirst: string;
  badSequenceMail: string;
  badSequenceRcpt: string;
  senderAlreadySpecified: string;
  alreadyAuthenticated: string;
  invalidArguments: string;
  authAborted: string;
  noop: string;
  reset: string;
  quit: string;
  bdatChunk(size: number): string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** RFC 2822 date as Exchange prints it in the greeting: `Thu, 5 Nov 2026 10:00:00 +0000`. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function diagHex(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export function exchangeReplies(host: string): PersonaReplies {
  const caps = (tlsLine: string[]) => [
    'SIZE 157286400',
    'PIPELINING',
    'DSN',
    'ENHANCEDSTATUSCODES',
    ...tlsLine,
    '8BITMIME',
    'BINARYMIME',
    'CHUNKING',
    'SMTPUTF8',
  ];
  const unsuccessful = `535 5.7.3 Authentication unsuccessful [${host}]`;
  const disabled = (scope: string) =>
    `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the ${scope}. Visit https://aka.ms/smtp_auth_disabled for more information.`;
  return {
    greeting: (now) => `220 ${host} Microsoft ESMTP MAIL Service ready at ${rfc2822(now)}`,
    ehlo(ip, secure, starttlsOffered, mechanisms) {
      const middle = secure
        ? mechanisms.length > 0
          ? [`AUTH ${mechanisms.join(' ')}`]
          : []
        : starttlsOffered
          ? ['STARTTLS']
          : [];
      return multiline('250', [`${host} Hello [${ip}]`, ...caps(middle)]);
    },
    helo: (ip) => `250 ${host} Hello [${ip}]`,
    starttlsReady: '220 2.0.0 SMTP server ready',
    authOk: '235 2.7.0 Authentication successful',
    authRefused(refusal) {
      switch (refusal) {
        case 'smtp-auth-disabled-tenant':
          return { final: disabled('Tenant') };
        case 'smtp-auth-disabled-mailbox':
          return { final: disabled('Mailbox') };
        case 'security-defaults':
          return {
            final:
              "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
          };
        default:
          return { final: unsuccessful };
      }
    },
    basicAuthRefused: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    unrecognizedAuth: (now) =>
      `504 5.7.4 Unrecognized authentication type [${host} ${new Date(now).toISOString()} ${diagHex()}]`,
    authRequired: '530 5.7.57 Client not authenticated to send mail.',
    senderOk: '250 2.1.0 Sender OK',
    recipientOk: '250 2.1.5 Recipient OK',
    startData: '354 Start mail input; end with <CRLF>.<CRLF>',
    accepted: (messageId) => `250 2.0.0 OK ${messageId} [Hostname=${host}]`,
    mailboxLogonFailure:
      '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message Cannot open mailbox.',
    sendAsDenied: (user, from, variant) =>
      variant === 'legacy'
        ? '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.'
        : `554 5.2.252 SendAsDenied; ${user} not allowed to send as ${from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.`,
    concurrentLimit: '432 4.3.2 Concurrent connections limit exceeded.',
    tokenExpiringSoon: '501 5.5.127 Invalid XOAUTH2 auth data - Token will expire soon',
    userNotValid: '501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid',
    quotaExceeded: '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException',
    tooManyRecipients: '452 4.5.3 Too many recipients',
    sizeExceeded: '552 5.3.4 Message size exceeds fixed maximum message size',
    tlsTooOld:
      '421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls.',
    timeout: `451 4.7.0 Timeout waiting for client input [${host}]`,
    lineTooLong: '500 5.5.2 Line too long',
    unrecognizedCommand: '500 5.3.3 Unrecognized command',
    sendHelloFirst: '503 5.5.2 Send hello first',
    badSequenceMail: '503 5.5.2 Need mail command',
    badSequenceRcpt: '503 5.5.2 Need rcpt command',
    senderAlreadySpecified: '503 5.5.2 Sender already specified',
    alreadyAuthenticated: '503 5.5.2 Already authenticated',
    invalidArguments: '501 5.5.4 Invalid arguments',
    authAborted: '501 5.0.0 Authentication aborted',
    noop: '250 2.0.0 OK',
    reset: '250 2.0.0 Resetting',
    quit: '221 2.0.0 Service closing transmission channel',
    bdatChunk: (size) => `250 2.0.0 BDAT ${size} bytes received`,
  };
}

const GOOGLE_CHALLENGE = Buffer.from(
  '{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}\n',
).toString('base64');

export function googleReplies(host: string): PersonaReplies {
  const id = () => `${randomBytes(6).toString('base64url')} - gsmtp`;
  return {
    greeting: () => `220 ${host} ESMTP ${id()}`,
    ehlo(ip, secure, starttlsOffered, mechanisms) {
      const lines = [`${host} at your service, [${ip}]`, 'SIZE 35882577', '8BITMIME'];
      if (secure && mechanisms.length > 0) lines.push(`AUTH ${mechanisms.join(' ')}`);
      if (!secure && starttlsOffered) lines.push('STARTTLS');
      lines.push('ENHANCEDSTATUSCODES', 'PIPELINING', 'CHUNKING', 'SMTPUTF8');
      return multiline('250', lines);
    },
    helo: (ip) => `250 ${host} at your service, [${ip}]`,
    starttlsReady: '220 2.0.0 Ready to start TLS',
    authOk: '235 2.7.0 Accepted',
    authRefused: () => ({
      challenge: `334 ${GOOGLE_CHALLENGE}`,
      final: `535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials ${id()}`,
    }),
    basicAuthRefused: `535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials ${id()}`,
    unrecognizedAuth: () => `504 5.7.4 Unrecognized authentication type. ${id()}`,
    authRequired: `530-5.7.0 Authentication Required. For more information, go to\r\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError ${id()}`,
    senderOk: `250 2.1.0 OK ${id()}`,
    recipientOk: `250 2.1.5 OK ${id()}`,
    startData: `354  Go ahead ${id()}`,
    accepted: (_messageId, now) => `250 2.0.0 OK  ${Math.floor(now / 1000)} ${id()}`,
    mailboxLogonFailure: `451 4.3.0 Mail server temporarily rejected message. ${id()}`,
    sendAsDenied: () => `550 5.7.1 Sender not allowed. ${id()}`,
    concurrentLimit: `421 4.7.0 Try again later, closing connection. ${id()}`,
    tokenExpiringSoon: `535 5.7.8 Username and Password not accepted. ${id()}`,
    userNotValid: `535 5.7.8 Username and Password not accepted. ${id()}`,
    quotaExceeded: `550 5.4.5 Daily user sending limit exceeded. ${id()}`,
    tooManyRecipients: `452 4.5.3 Your message has too many recipients. ${id()}`,
    sizeExceeded: `552-5.3.4 Your message exceeded Google's message size limits.\r\n552 5.3.4 ${id()}`,
    tlsTooOld: `421 4.7.0 TLS version not supported. ${id()}`,
    timeout: `451 4.4.2 Timeout - closing connection. ${id()}`,
    lineTooLong: `500 5.5.2 Line too long. ${id()}`,
    unrecognizedCommand: `502 5.5.1 Unrecognized command. ${id()}`,
    sendHelloFirst: `503 5.5.1 EHLO/HELO first. ${id()}`,
    badSequenceMail: `503 5.5.1 MAIL first. ${id()}`,
    badSequenceRcpt: `503 5.5.1 RCPT first. ${id()}`,
    senderAlreadySpecified: `503 5.5.1 Nested MAIL command. ${id()}`,
    alreadyAuthenticated: `503 5.5.1 Already authenticated. ${id()}`,
    invalidArguments: `555 5.5.2 Syntax error. ${id()}`,
    authAborted: `501 5.5.2 Cannot Decode response ${id()}`,
    noop: `250 2.0.0 OK ${id()}`,
    reset: `250 2.1.5 Flushed ${id()}`,
    quit: `221 2.0.0 closing connection ${id()}`,
    bdatChunk: (size) => `250 2.0.0 ${size} bytes received ${id()}`,
  };
}

function multiline(code: string, lines: string[]): string {
  const last = lines.length - 1;
  return lines.map((l, i) => `${code}${i === last ? ' ' : '-'}${l}`).join('\r\n');
}

/**
 * Exchange Online's fixed texts for faults a test injects (`faults.add({ reply })`); the server
 * produces the others itself. Source: entra-exchange-behaviour.md §8 and §10.
 */
export const EXCHANGE_FAULT_REPLIES = Object.freeze({
  /** An outage on Microsoft's side; not the connection limit. */
  serviceNotAvailable: '421 4.3.2 Service not available, closing transmission channel',
  /** Basic authentication after its retirement (or on an endpoint without it). */
  basicAuthNotSupported: '550 5.7.30 Basic authentication is not supported for Client Submission.',
  /** The sending mailbox is over its storage quota. */
  mailboxFull:
    '554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception with message Cannot submit message.',
  /** 10,000 recipients per day exceeded. */
  submissionQuotaExceeded:
    '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.',
  /** Too many connections for the mailbox. */
  concurrentConnectionsLimit: '432 4.3.2 Concurrent connections limit exceeded.',
});
