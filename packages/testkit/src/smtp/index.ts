/**
 * `@org/testkit/smtp`: an SMTP submission server that answers exactly as Exchange Online (or
 * Gmail) does, for OAuth2 (XOAUTH2 / OAUTHBEARER) clients under test.
 */

// Server
export { createSmtpServer } from './server.js';
export type { SmtpServer, SmtpServerOptions, SmtpTlsMode, ThrottledSubmission } from './server.js';
export type { SmtpPersona } from './replies.js';
export { EXCHANGE_FAULT_REPLIES } from './replies.js';
export type { SmtpLimits } from './limits.js';

// Authorizer contract
export type {
  AuthDecision,
  AuthRefusal,
  AuthRequest,
  SmtpAuthorizer,
  SmtpIdentity,
} from './authorizer.js';

// Faults
export type { RegisteredSmtpFault, SmtpFault, SmtpFaults, SmtpFaultStage } from './faults.js';

// Recorded data
export type {
  AuthAttempt,
  ParsedMessage,
  ParsedStoredMessage,
  StoredMessage,
  TranscriptEntry,
} from './store.js';

// Errors
export { SmtpServerError } from './errors.js';
export type { SmtpServerErrorCode } from './errors.js';
