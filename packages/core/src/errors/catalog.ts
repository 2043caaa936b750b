import type { ErrorCategory } from './categories.js';
import { ConfigError } from './smtp-oauth-error.js';
/**
 * Every stable error code the toolkit raises. Code that reacts to failures matches on these,
 * never on message text.
 */
export const errorCodes = [
  'CONFIG_INVALID',
  'CONFIG_FILE_UNREADABLE',
  'CREDENTIAL_INVALID',
  'CREDENTIAL_EXPIRED',
  'TOKEN_INVALID_CLIENT_SECRET',
  'TOKEN_CLIENT_SECRET_EXPIRED',
  'TOKEN_APP_NOT_FOUND',
  'TOKEN_TENANT_NOT_FOUND',
  'TOKEN_INVALID_SCOPE',
  'TOKEN_SCOPE_NOT_VALID',
  'TOKEN_CERTIFICATE_NOT_REGISTERED',
  'TOKEN_ASSERTION_TIME_INVALID',
  'TOKEN_MISSING_CREDENTIAL',
  'TOKEN_RESOURCE_NOT_FOUND',
  'TOKEN_INVALID_CLIENT',
  'TOKEN_THROTTLED',
  'TOKEN_SERVICE_UNAVAILABLE',
  'TOKEN_ENDPOINT_REJECTED',
  'TOKEN_RESPONSE_INVALID',
  'TOKEN_SERVICE_PRINCIPAL_MISSING',
  'TOKEN_CLOUD_MISMATCH',
  'TOKEN_ENDPOINT_NOT_ALLOWED',
  'TLS_REQUIRED',
  'TLS_CERTIFICATE_INVALID',
  'TLS_HANDSHAKE_FAILED',
  'SMTP_AUTH_REJECTED',
  'SMTP_AUTH_DISABLED',
  'SMTP_SECURITY_DEFAULTS',
  'SMTP_BASIC_AUTH_DISABLED',
  'SMTP_AUTH_MECHANISM_UNSUPPORTED',
  'SMTP_NOT_AUTHENTICATED',
  'SMTP_MAILBOX_LOGON_FAILED',
  'SMTP_SEND_AS_DENIED',
  'SMTP_CONCURRENCY_LIMIT',
  'SMTP_QUOTA_EXCEEDED',
  'SMTP_MAILBOX_FULL',
  'SMTP_REJECTED',
  'SMTP_TRANSIENT',
  'SMTP_OUTCOME_UNKNOWN',
  'SMTP_SERVICE_UNAVAILABLE',
  'SMTP_AUTH_TOKEN_EXPIRING',
  'SMTP_AUTH_USER_INVALID',
  'SMTP_AUTH_TEMPORARY_FAILURE',
  'NETWORK_DNS',
  'NETWORK_CONNECT',
  'NETWORK_TIMEOUT',
  'MESSAGE_INVALID',
  'MESSAGE_HEADER_INJECTION',
  'MESSAGE_TOO_LARGE',
  'MAILER_CLOSED',
] as const;

/** A stable, namespaced error code. */
export type ErrorCode = (typeof errorCodes)[number];

/** One entry of the troubleshooting catalog. Used to generate the docs and as the default hint. */
export interface ErrorCatalogEntry {
  code: ErrorCode;
  /** Short human title. */
  title: string;
  /** Whether a retry (with backoff) may succeed without anyone changing anything. */
  transient: boolean;
  /**
   * What a front end does about it: the CLI's exit code and the server's HTTP status are looked up
   * by category (`cli/src/exit-codes.ts`, `server/src/http/errors.ts`).
   */
  category: ErrorCategory;
  /** What the failure means, in the user's terms. */
  meaning: string;
  /** The setup step or change that fixes it. Placeholders in angle brackets. */
  fix: string;
}

const entries: ErrorCatalogEntry[] = [
  {
    code: 'CONFIG_INVALID',
    title: 'Configuration is invalid',
    transient: false,
    category: 'config',
    meaning: 'One or more fields of the email-server entry fail validation. Nothing was sent.',
    fix: 'Correct each field named in the error; every issue carries the field path and the expected value.',
  },
  {
    code: 'CONFIG_FILE_UNREADABLE',
    title: 'Configuration file or secret reference unreadable',
    transient: false,
    category: 'config',
    meaning:
      'The config file, or a `file:` / `env:` secret reference inside it, could not be read or parsed.',
    fix: 'Check the path and permissions of the file named in the error, that it is valid JSON or YAML, and that every `env:NAME` variable is set for the process.',
  },
  {
    code: 'CREDENTIAL_INVALID',
    title: 'Certificate credential is invalid',
    transient: false,
    category: 'config',
    meaning:
      'The certificate or private key cannot be used: the PEM/PFX cannot be parsed, the PFX passphrase is wrong, the key does not belong to the certificate, or the given thumbprint does not match.',
    fix: 'Export the certificate and its private key again from the same key pair (e.g. `openssl pkcs12 -in cert.pfx -nodes`), check the PFX passphrase, and copy the thumbprint from Entra > App registrations > Certificates & secrets.',
  },
  {
    code: 'CREDENTIAL_EXPIRED',
    title: 'Certificate expired or not yet valid',
    transient: false,
    category: 'credential',
    meaning: 'The client certificate is outside its validity period, so Entra will refuse the assertion.',
    fix: 'Create a new certificate, upload its public part under App registrations > Certificates & secrets, and configure the new certificate and key.',
  },
  {
    code: 'TOKEN_INVALID_CLIENT_SECRET',
    title: 'Invalid client secret (AADSTS7000215)',
    transient: false,
    category: 'auth',
    meaning: 'Entra rejected the client secret. Most often the secret ID was copied instead of its value.',
    fix: "Use the secret's Value, not its Secret ID. The value is shown only once, right after creating the secret under App registrations > Certificates & secrets; if it is lost, create a new secret.",
  },
  {
    code: 'TOKEN_CLIENT_SECRET_EXPIRED',
    title: 'Client secret expired (AADSTS7000222)',
    transient: false,
    category: 'auth',
    meaning: 'All client secrets of the app registration have expired.',
    fix: 'Create a new client secret under App registrations > Certificates & secrets and configure its Value — or switch to a certificate credential, which Microsoft recommends.',
  },
  {
    code: 'TOKEN_APP_NOT_FOUND',
    title: 'Application not found in the tenant (AADSTS700016)',
    transient: false,
    category: 'auth',
    meaning:
      'No app with this client ID exists in the tenant of the token endpoint: wrong client ID, wrong tenant, or the app was never consented in this tenant.',
    fix: "Copy the Application (client) ID and the Directory (tenant) ID from the app registration's Overview page in https://entra.microsoft.com and check the token endpoint uses that tenant.",
  },
  {
    code: 'TOKEN_TENANT_NOT_FOUND',
    title: 'Tenant not found (AADSTS90002)',
    transient: false,
    category: 'auth',
    meaning: 'The tenant in the token endpoint URL does not exist in this cloud.',
    fix: 'Use the Directory (tenant) ID GUID or a verified domain such as contoso.onmicrosoft.com, and the login host of the right cloud (login.microsoftonline.com, .us or partner.microsoftonline.cn).',
  },
  {
    code: 'TOKEN_INVALID_SCOPE',
    title: 'Scope must end in /.default (AADSTS1002012)',
    transient: false,
    category: 'auth',
    meaning:
      'Client-credential requests take exactly one resource with /.default; delegated permission names such as Mail.Send are refused.',
    fix: 'Set the scope to https://outlook.office365.com/.default (GCC High: https://outlook.office365.us/.default, China: https://partner.outlook.cn/.default).',
  },
  {
    code: 'TOKEN_SCOPE_NOT_VALID',
    title: 'Scope is not valid (AADSTS70011)',
    transient: false,
    category: 'auth',
    meaning: 'Entra does not accept the scope value.',
    fix: 'Set the scope to exactly https://outlook.office365.com/.default — one value, no extra spaces or permission names.',
  },
  {
    code: 'TOKEN_CERTIFICATE_NOT_REGISTERED',
    title: 'Certificate not registered on the app (AADSTS700027)',
    transient: false,
    category: 'auth',
    meaning:
      'The client assertion was signed with a key whose certificate is not uploaded to the app registration.',
    fix: 'Upload the public certificate (.cer/.pem) under App registrations > Certificates & secrets > Certificates, and check the thumbprint shown there matches the configured certificate.',
  },
  {
    code: 'TOKEN_ASSERTION_TIME_INVALID',
    title: 'Client assertion outside its valid time (AADSTS700024)',
    transient: false,
    category: 'auth',
    meaning: "The signed client assertion's nbf/exp do not cover Entra's current time, usually clock skew.",
    fix: "Synchronise this machine's clock (NTP) and retry.",
  },
  {
    code: 'TOKEN_MISSING_CREDENTIAL',
    title: 'No client credential sent (AADSTS7000218)',
    transient: false,
    category: 'auth',
    meaning: 'The token request contained neither client_secret nor client_assertion.',
    fix: 'Configure a client secret or a certificate for the entry.',
  },
  {
    code: 'TOKEN_RESOURCE_NOT_FOUND',
    title: 'Resource not found in the tenant (AADSTS500011)',
    transient: false,
    category: 'auth',
    meaning:
      "The scope's resource (e.g. Office 365 Exchange Online) has no service principal in the tenant, or the resource URI is misspelt.",
    fix: 'Check the scope is https://outlook.office365.com/.default and that the tenant has an Exchange Online subscription.',
  },
  {
    code: 'TOKEN_INVALID_CLIENT',
    title: 'Client authentication failed',
    transient: false,
    category: 'auth',
    meaning:
      'The token endpoint rejected the client credentials (OAuth2 invalid_client/unauthorized_client).',
    fix: 'Check the client ID, the secret or certificate, and the client authentication method the provider expects.',
  },
  {
    code: 'TOKEN_THROTTLED',
    title: 'Token endpoint throttled the request (429)',
    transient: true,
    category: 'transient',
    meaning: 'Too many token requests. Tokens should be cached and reused for about an hour.',
    fix: 'Wait for Retry-After and make sure a single cached token provider is shared by all senders.',
  },
  {
    code: 'TOKEN_SERVICE_UNAVAILABLE',
    title: 'Token endpoint unavailable (5xx)',
    transient: true,
    category: 'transient',
    meaning: 'The identity provider had a server-side failure.',
    fix: 'Retry later; check https://status.cloud.microsoft if it persists.',
  },
  {
    code: 'TOKEN_ENDPOINT_REJECTED',
    title: 'Token request rejected',
    transient: false,
    category: 'auth',
    meaning: 'The token endpoint refused the request for a reason without a more specific code.',
    fix: "Read the provider's error description in the details and check the token endpoint URL, client ID and scope.",
  },
  {
    code: 'TOKEN_RESPONSE_INVALID',
    title: 'Token response is not usable',
    transient: false,
    category: 'auth',
    meaning:
      'The token endpoint answered without a usable access token (not JSON, no access_token, or an unexpected shape) — often a proxy or a wrong URL.',
    fix: 'Check the token endpoint URL ends in /oauth2/v2.0/token and that no proxy rewrites the response.',
  },
  {
    code: 'TOKEN_SERVICE_PRINCIPAL_MISSING',
    title: 'App has no service principal in the tenant (AADSTS7000229)',
    transient: false,
    category: 'auth',
    meaning:
      'A multi-tenant app asked for a token in a tenant where it has no service principal (Enterprise application); Entra enforces this since 31 March 2026.',
    fix: 'A Global or Privileged Role Administrator of that tenant grants admin consent to the app (https://<login host>/<TENANT_ID>/adminconsent?client_id=<CLIENT_ID>), which creates the service principal.',
  },
  {
    code: 'TOKEN_CLOUD_MISMATCH',
    title: 'Token endpoint and scope are in different Microsoft clouds',
    transient: false,
    category: 'auth',
    meaning:
      'The token endpoint belongs to one Microsoft cloud (Global, US Government GCC High, China) and the scope to another; a tenant lives in exactly one cloud.',
    fix: "Use one cloud's values throughout: its login host in the token endpoint, its Exchange scope and its SMTP host (e.g. GCC High: login.microsoftonline.us, https://outlook.office365.us/.default, smtp.office365.us).",
  },
  {
    code: 'TOKEN_ENDPOINT_NOT_ALLOWED',
    title: 'Token request to a host outside the allow-list refused',
    transient: false,
    // The identity provider (upstream) named the host: answered like other upstream refusals (502).
    category: 'permanent',
    meaning:
      'The token client was about to contact a URL its operator does not allow: the configured token endpoint, or a URL the identity provider named (the token_endpoint or jwks_uri of its OpenID metadata, instance discovery, a redirect). Nothing was sent to that host; the client secret or assertion stayed here.',
    fix: 'If the host named in the error is your identity provider, the server operator adds it to TOKEN_HOST_ALLOWLIST; otherwise the provider at the configured endpoint points elsewhere — correct the token endpoint.',
  },
  {
    code: 'TLS_REQUIRED',
    title: 'Server does not offer STARTTLS',
    transient: false,
    category: 'permanent',
    meaning:
      'The SMTP server did not advertise STARTTLS on a port that requires it. The connection was closed before any credentials were sent.',
    fix: 'Check host and port (smtp.office365.com:587 offers STARTTLS); for implicit TLS use port 465 with security "tls".',
  },
  {
    code: 'TLS_CERTIFICATE_INVALID',
    title: "Server's TLS certificate not trusted",
    transient: false,
    category: 'permanent',
    meaning:
      "The server's certificate is self-signed, expired, issued by an unknown CA, or does not match the host name.",
    fix: 'Use the host name the certificate was issued for; for a private CA set tls.ca to its PEM certificate. Never disable verification.',
  },
  {
    code: 'TLS_HANDSHAKE_FAILED',
    title: 'TLS handshake failed',
    transient: true,
    category: 'transient',
    meaning: 'The TLS negotiation did not complete (protocol version, cipher, or a reset during handshake).',
    fix: 'Exchange Online requires TLS 1.2 or newer; check that no proxy or firewall intercepts the connection.',
  },
  {
    code: 'SMTP_AUTH_REJECTED',
    title: 'Authentication unsuccessful (535 5.7.3)',
    transient: false,
    category: 'auth',
    meaning:
      'Exchange refused the access token: missing SMTP.SendAsApp admin consent, service principal not registered in Exchange, wrong audience (e.g. a Graph scope), or an expired token.',
    fix: "Grant admin consent for Office 365 Exchange Online > SMTP.SendAsApp (application permission); register the service principal with New-ServicePrincipal -AppId <APPLICATION_ID> -ObjectId <ENTERPRISE_APP_OBJECT_ID> (the Enterprise Application object id, not the app registration's); use scope https://outlook.office365.com/.default.",
  },
  {
    code: 'SMTP_AUTH_DISABLED',
    title: 'SMTP AUTH disabled (535 5.7.139)',
    transient: false,
    category: 'auth',
    meaning: 'Authenticated SMTP submission is turned off for the tenant or for the mailbox.',
    fix: 'Set-CASMailbox -Identity "<mailbox>" -SmtpClientAuthenticationDisabled $false, and tenant-wide Set-TransportConfig -SmtpClientAuthenticationDisabled $false if the tenant disables it.',
  },
  {
    code: 'SMTP_SECURITY_DEFAULTS',
    title: 'Blocked by security defaults (535 5.7.139)',
    transient: false,
    category: 'auth',
    meaning: "The tenant's security defaults policy blocks SMTP AUTH for this account.",
    fix: 'Ask a Global Administrator to review Entra > Properties > Security defaults or replace them with Conditional Access policies that allow this app.',
  },
  {
    code: 'SMTP_BASIC_AUTH_DISABLED',
    title: 'Basic authentication disabled (5.7.139 / 550 5.7.30)',
    transient: false,
    category: 'auth',
    meaning: 'The client authenticated with a password; Exchange Online only accepts OAuth2 for SMTP AUTH.',
    fix: 'Switch the entry to auth type oauth2 (XOAUTH2) with an app registration that has SMTP.SendAsApp.',
  },
  {
    code: 'SMTP_AUTH_MECHANISM_UNSUPPORTED',
    title: 'Authentication mechanism not supported (504 5.7.4)',
    transient: false,
    category: 'auth',
    meaning: 'The server does not accept the AUTH mechanism used — typically AUTH attempted before STARTTLS.',
    fix: 'Use port 587 with STARTTLS (security "starttls") so the server offers AUTH XOAUTH2.',
  },
  {
    code: 'SMTP_NOT_AUTHENTICATED',
    title: 'Client not authenticated (530 5.7.57)',
    transient: false,
    category: 'auth',
    meaning: 'A message was submitted without a successful AUTH first.',
    fix: 'Configure OAuth2 authentication for the entry; anonymous submission is not allowed on port 587.',
  },
  {
    code: 'SMTP_MAILBOX_LOGON_FAILED',
    title: 'Cannot open mailbox (430 4.2.0)',
    transient: false,
    category: 'auth',
    meaning:
      'Authentication succeeded but the service principal has no permission on the mailbox. Retrying does not help until the permission is granted.',
    fix: 'Add-MailboxPermission -Identity "<mailbox>" -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess (the ServicePrincipal ID from Get-ServicePrincipal).',
  },
  {
    code: 'SMTP_SEND_AS_DENIED',
    title: 'Send As denied (554 5.2.252)',
    transient: false,
    category: 'auth',
    meaning: 'The From address is not the authenticated mailbox and the app has no SendAs right on it.',
    fix: 'Add-RecipientPermission -Identity "<from>" -Trustee <SERVICE_PRINCIPAL_ID> -AccessRights SendAs, or send from the authenticated mailbox.',
  },
  {
    code: 'SMTP_CONCURRENCY_LIMIT',
    title: 'Too many concurrent connections (432 4.3.2)',
    transient: true,
    category: 'transient',
    meaning: 'Exchange Online allows 3 concurrent SMTP connections per mailbox.',
    fix: 'Lower limits.maxConnections to 3 or fewer and share one mailer across the application.',
  },
  {
    code: 'SMTP_QUOTA_EXCEEDED',
    title: 'Daily submission quota exceeded (5.2.0)',
    transient: false,
    category: 'permanent',
    meaning: "The mailbox exceeded Exchange Online's 10,000 recipients per day.",
    fix: 'Wait for the 24-hour window to pass, spread sending over several mailboxes, or use a bulk-mail service.',
  },
  {
    code: 'SMTP_MAILBOX_FULL',
    title: 'Mailbox full (5.2.2)',
    transient: false,
    category: 'permanent',
    meaning: 'The sending mailbox (its Sent Items) is over quota, so Exchange cannot store the message.',
    fix: 'Clean up the mailbox (Sent Items) or raise its quota.',
  },
  {
    code: 'SMTP_REJECTED',
    title: 'Server rejected the command',
    transient: false,
    category: 'permanent',
    meaning: 'The SMTP server answered with a permanent (5xx) failure without a more specific code.',
    fix: "Read the server's reply in the details; it usually names the refused recipient or policy.",
  },
  {
    code: 'SMTP_TRANSIENT',
    title: 'Temporary server failure',
    transient: true,
    category: 'transient',
    meaning: 'The SMTP server answered with a temporary (4xx) failure.',
    fix: 'Retry with backoff; if it persists, read the reply in the details.',
  },
  {
    code: 'SMTP_OUTCOME_UNKNOWN',
    title: 'Delivery outcome unknown',
    transient: false,
    category: 'outcome-unknown',
    meaning:
      'The whole message was sent, but the connection was lost (or timed out) before the server answered the final ".": the server may or may not have accepted it. It is not resent automatically, because a resend may deliver it twice.',
    fix: 'Check whether the message arrived (search the recipient or Sent Items for its Message-ID, in details.messageId) before sending it again; to resend automatically with the same Message-ID, create the mailer with retryUnknownOutcome: true.',
  },
  {
    code: 'SMTP_SERVICE_UNAVAILABLE',
    title: 'Service not available (421 4.3.2)',
    transient: true,
    category: 'transient',
    meaning:
      'The server is shutting the session down (an outage or maintenance on its side); this is not the per-mailbox connection limit.',
    fix: "Retry later with backoff; nothing in the configuration needs to change. If it lasts, check the provider's service health page.",
  },
  {
    code: 'SMTP_AUTH_TOKEN_EXPIRING',
    title: 'Token will expire soon (501 5.5.127)',
    transient: false,
    category: 'auth',
    meaning:
      "The server refused an access token that was about to expire (Exchange's High Volume Email endpoint refuses tokens with less than about 10 minutes left). The mailer already fetched a fresh token and tried once more.",
    fix: "Make sure freshly issued tokens live longer than 10 minutes (the token lifetime policy of the app) and that this machine's clock is right; the token cache refreshes tokens at least 10 minutes before they expire.",
  },
  {
    code: 'SMTP_AUTH_USER_INVALID',
    title: 'XOAUTH2 user not valid (501 5.5.124)',
    transient: false,
    category: 'auth',
    meaning: "The server does not know the mailbox named in the XOAUTH2 user= field (the entry's user).",
    fix: "Set user to the primary SMTP address of an existing mailbox (for High Volume Email: the HVE account's address), not an alias, a UPN that differs from it, or a display name.",
  },
  {
    code: 'SMTP_AUTH_TEMPORARY_FAILURE',
    title: 'Temporary authentication failure (4xx to AUTH)',
    transient: true,
    category: 'transient',
    meaning: 'The server could not check the access token right now (e.g. 454 4.7.0).',
    fix: 'Retry later with backoff; if it persists, check that the server can reach the service that validates its tokens.',
  },
  {
    code: 'NETWORK_DNS',
    title: 'Host name does not resolve',
    transient: true,
    category: 'transient',
    meaning: 'DNS lookup of the host failed.',
    fix: 'Check the spelling of the host (e.g. smtp.office365.com) and the DNS settings of this machine.',
  },
  {
    code: 'NETWORK_CONNECT',
    title: 'Connection failed',
    transient: true,
    category: 'transient',
    meaning: 'The TCP connection was refused or reset.',
    fix: 'Check host and port and that outbound traffic to the port (587/465) is allowed by firewalls and the hosting provider.',
  },
  {
    code: 'NETWORK_TIMEOUT',
    title: 'Connection timed out',
    transient: true,
    category: 'transient',
    meaning: 'The server did not answer in time.',
    fix: 'Check that outbound port 587/465 is not silently dropped by a firewall; many cloud providers block SMTP ports by default.',
  },
  {
    code: 'MESSAGE_INVALID',
    title: 'Message is invalid',
    transient: false,
    category: 'message',
    meaning:
      'The message failed validation before sending (address syntax, no recipients, too many recipients).',
    fix: 'Correct the field named in the error.',
  },
  {
    code: 'MESSAGE_HEADER_INJECTION',
    title: 'Line break in a header field',
    transient: false,
    category: 'message',
    meaning:
      'An address, display name, subject or custom header contains CR, LF or NUL, which could inject extra headers or recipients.',
    fix: 'Remove line breaks from the field named in the error; never copy user input into headers unchecked.',
  },
  {
    code: 'MESSAGE_TOO_LARGE',
    title: 'Message too large',
    transient: false,
    category: 'message-size',
    meaning: 'The encoded message would exceed the size limit (Exchange Online: 150 MiB including encoding).',
    fix: 'Send large files as links, or reduce attachments; base64 encoding adds about 37 %.',
  },
  {
    code: 'MAILER_CLOSED',
    title: 'Mailer closed',
    transient: false,
    category: 'permanent',
    meaning: 'send(), sendRaw() or verify() was called after close() on the same mailer.',
    fix: 'Create a new mailer, or call close() only when the application stops sending.',
  },
];

/** The troubleshooting catalog, one entry per {@link ErrorCode}, in a stable order. */
export const errorCatalog: readonly ErrorCatalogEntry[] = Object.freeze(entries.map((e) => Object.freeze(e)));

const byCode = new Map<ErrorCode, ErrorCatalogEntry>(errorCatalog.map((e) => [e.code, e]));

/** The catalog entry for a code. */
export function catalogEntry(code: ErrorCode): ErrorCatalogEntry {
  const entry = byCode.get(code);
  if (!entry)
    throw new ConfigError([
      { path: 'code', message: `${String(code)} is not a catalog code (see errorCodes)` },
    ]);
  return entry;
}
