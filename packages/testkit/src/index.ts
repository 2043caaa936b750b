/**
 * `@org/testkit`: a fake Microsoft Entra token endpoint and an Exchange Online-like XOAUTH2 SMTP
 * server, for tests, demos and integration tests. Subpaths: `@org/testkit/token`, `@org/testkit/smtp`.
 */

// One ready environment (both servers, one clock, one CA, a set-up tenant)
export { createTestEnvironment, EXCHANGE_SCOPE } from './environment.js';
export type {
  EnvironmentEmailServerConfig,
  EnvironmentRbac,
  TestEnvironment,
  TestEnvironmentOptions,
} from './environment.js';

// The standalone sandbox and its inspection API
export { startSandbox } from './sandbox.js';
export type { Sandbox, SandboxInfo, SandboxOptions } from './sandbox.js';
export { createInspectServer } from './inspect/index.js';
export type { DirectoryAction, InspectServer } from './inspect/index.js';

// Building blocks
export { createClock, epochSeconds } from './clock.js';
export type { Clock, ClockOptions } from './clock.js';
export { createCertificateAuthority, createClientCertificate, thumbprints } from './pki/index.js';
export type { CertificateAndKey, CertificateAuthority, ClientCertificate } from './pki/index.js';
export {
  APPLICATION_SMTP_SEND_AS_APP,
  createDirectory,
  DirectoryError,
  EXCHANGE_RESOURCES,
  hasFullAccess,
  maySendAs,
  parseRecipientFilter,
  SMTP_SEND_AS_APP,
  smtpAuthEnabledFor,
} from './directory/index.js';
export type {
  AppPermission,
  AppRegistration,
  ClientSecret,
  Directory,
  DirectorySnapshot,
  ExchangeServicePrincipal,
  Group,
  Mailbox,
  ManagementRoleAssignment,
  ManagementScope,
  RegisteredCertificate,
  ServicePrincipalAuthorizationRow,
  Tenant,
} from './directory/index.js';
export {
  createExchangeAuthorizer,
  createRemoteKeyGetter,
  DEFAULT_EXCHANGE_AUDIENCES,
} from './exchange/index.js';
export type { ExchangeAuthorizerOptions, PermissionModel } from './exchange/index.js';
export { createCaTrustingNetworkClient, createTokenServer } from './token/index.js';
export type {
  CaTrustingNetworkClient,
  CaTrustingNetworkClientOptions,
  EntraErrorBody,
  IssuerJwk,
  IssuerKeys,
  TokenAuthMethod,
  TokenFault,
  TokenFaultAction,
  TokenFaultMatch,
  TokenFaults,
  TokenFaultSpec,
  TokenRequestRecord,
  TokenServer,
  TokenServerOptions,
} from './token/index.js';
export { createSmtpServer, EXCHANGE_FAULT_REPLIES, SmtpServerError } from './smtp/index.js';
export type {
  AuthAttempt,
  AuthDecision,
  AuthRefusal,
  AuthRequest,
  ParsedMessage,
  ParsedStoredMessage,
  RegisteredSmtpFault,
  SmtpAuthorizer,
  SmtpFault,
  SmtpFaults,
  SmtpFaultStage,
  SmtpIdentity,
  SmtpLimits,
  SmtpPersona,
  SmtpServer,
  SmtpServerErrorCode,
  SmtpServerOptions,
  SmtpTlsMode,
  StoredMessage,
  ThrottledSubmission,
  TranscriptEntry,
} from './smtp/index.js';
