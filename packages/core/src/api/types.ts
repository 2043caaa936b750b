/**
 * The HTTP contract of `@org/server`: the shapes its routes answer with. The server types its
 * responses with these and the admin UI reads them with `import type`, so one change shows up on
 * both sides at compile time (the UI cannot import the server, which depends on it to serve it).
 *
 * Types only: this module has no runtime, so a browser bundle gains nothing from importing it.
 */
import type { ConfigWarning } from '../config/parse.js';
import type { PublicEmailServerConfig } from '../config/redact.js';
import type { CertificateInfo } from '../credentials/certificate.js';
import type { DiagnoseResult } from '../doctor/types.js';
import type { ConfigIssueCode } from '../errors/smtp-oauth-error.js';
import type { SendResult } from '../mailer/mailer.js';
import type { SendTestResult } from '../mailer/send-test.js';
import type { TokenFinding } from '../tokens/inspect.js';

// ── Errors ───────────────────────────────────────────────────────────────────────────────────

/** One validation problem, named by its dotted path (`auth.clientId`, `host`, `(root)`). */
export interface ApiIssue {
  path: string;
  message: string;
  /** The config issue's kind (core's {@link ConfigIssueCode}); front ends decide on it, not on `message`. */
  code?: ConfigIssueCode;
}

/** Every error answer: `{ error: { code, message, hint?, issues?, transient?, details? } }`. */
export interface ApiErrorBody {
  error: {
    /** Stable: the server's own (`NOT_FOUND`, `VALIDATION_FAILED`, …) or core's (`TOKEN_*`, `SMTP_*`). */
    code: string;
    message: string;
    hint?: string;
    issues?: ApiIssue[];
    /** Core failures: whether retrying later may help. */
    transient?: boolean;
    /** Core failures: safe evidence (the server's reply, the AADSTS code), never secrets or bodies. */
    details?: Record<string, unknown>;
  };
}

// ── Sign-in ──────────────────────────────────────────────────────────────────────────────────

/** The signed-in admin: `POST /api/auth/login`, `GET /api/auth/me`. */
export interface AdminView {
  id: string;
  email: string;
}

/** `{ admin }`: the answer of sign-in and of `GET /api/auth/me`. */
export interface AdminResponse {
  admin: AdminView;
}

// ── Email servers ────────────────────────────────────────────────────────────────────────────

/**
 * Public facts of a certificate credential: core's `CertificateInfo` (S16), one name per fact
 * (`thumbprint` is the SHA-1 thumbprint Entra shows; `daysUntilExpiry`).
 */
export type CertificateView = CertificateInfo;

/** The entry's last test (token test, diagnosis or test message): outcome, time, one line. */
export interface LastTest {
  ok: boolean;
  at: string;
  message: string | null;
  /** Which check ran: the token test, the diagnostics, or a test send. Absent for older rows. */
  check?: TestCheck;
  /**
   * A failure of another check that no later run of that check has cleared; present only when
   * `ok` is true, so a newer success never hides it.
   */
  earlierFailure?: { check: TestCheck; at: string; message: string | null };
}

/** The checks that record a last test. */
export type TestCheck = 'token' | 'diagnose' | 'send-test';

/** An email-server entry as the API shows it: secrets only as "set" flags, never values (S3). */
export interface EmailServerView {
  id: string;
  name: string;
  isDefault: boolean;
  /** core's redacted config: the credential is `{ kind, clientSecretSet }` or `{ kind, set, thumbprint? }`. */
  config: PublicEmailServerConfig;
  clientSecretSet: boolean;
  passwordSet: boolean;
  certificate: CertificateView | null;
  /** Why a stored certificate credential cannot be used (expired, key mismatch), from core. */
  certificateProblem: { code: string; message: string } | null;
  /**
   * A stored secret no configured key decrypts (`SECRET_DECRYPT_FAILED`): the entry cannot send until
   * the named fields are entered again. Absent or null when every secret is readable.
   */
  secretProblem?: { code: 'SECRET_DECRYPT_FAILED'; message: string; fields: string[] } | null;
  lastTest: LastTest | null;
  createdAt: string;
  updatedAt: string;
}

/** `GET /api/email-servers`. */
export interface EmailServerListResponse {
  emailServers: EmailServerView[];
}

/** One entry with core's non-fatal warnings: get, create, update, make default. */
export interface EmailServerResponse {
  emailServer: EmailServerView;
  warnings: ConfigWarning[];
}

/** `POST /api/email-servers/{id}/test-token`: core's inspection of a fresh token — never the token. */
export interface TokenTestResult {
  /**
   * Whether every claim check passed (an opaque token from a generic, non-Exchange provider also
   * passes): core's `testAccessToken`, the same verdict as `smtp-oauth token`.
   */
  ok: boolean;
  /** When the token expires (ISO 8601). */
  expiresAt: string;
  tokenType: string;
  /** The decoded, unverified claims (aud, roles, tid, appid, oid, …). */
  claims: Record<string, unknown>;
  findings: TokenFinding[];
}

/** `POST /api/email-servers/{id}/diagnose`: core's `DiagnoseResult`. */
export type DiagnoseResponse = DiagnoseResult;

/** `POST /api/send`: core's `SendResult`. */
export type SendResponse = SendResult;

/** `POST /api/email-servers/{id}/send-test`: core's `SendTestResult` (a failed send is `ok: false`). */
export type SendTestResponse = SendTestResult;

// ── API keys ─────────────────────────────────────────────────────────────────────────────────

/** An API key as listed: its prefix to recognise it, never the key. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key. */
  prefix: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /**
   * What the key may do: the entries it sends through and, when not empty, the From addresses or
   * domains and source ranges it may use. `null` for keys made before bindings existed (any entry).
   */
  scope?: { emailServerIds: string[]; allowedFrom: string[]; allowedSources: string[] } | null;
  /** The key's webhook for final message states; `null` when none is set. Never the secret. */
  webhook?: ApiKeyWebhookView | null;
}

/** What a delivery of a webhook event ended as, so far. */
export type WebhookDeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'dropped';

/** An API key's webhook: where events go, whether a secret is set, and the last delivery. */
export interface ApiKeyWebhookView {
  url: string;
  /** Always true while a webhook is set; the secret itself is shown once, when generated. */
  secretSet: boolean;
  secretCreatedAt: string | null;
  /** The newest delivery attempt's outcome; `null` before the first. */
  lastDelivery: {
    at: string;
    outcome: WebhookDeliveryOutcome;
    /** The receiver's HTTP status, when it answered. */
    httpStatus: number | null;
    /** Why it failed (`WEBHOOK_HTTP_STATUS`, `WEBHOOK_TIMEOUT`, …); null when delivered. */
    error: string | null;
    eventId: string | null;
  } | null;
}

/**
 * `PUT /api/api-keys/{id}/webhook` and `POST …/webhook/secret`: the signing secret
 * (`whsec_…`) is in this answer only when it was just generated, never again.
 */
export interface WebhookSecretResponse {
  apiKey: ApiKeyView;
  secret?: string;
}

/** One webhook event's delivery state (`webhook-id` = `id`). */
export interface WebhookDeliveryView {
  id: string;
  type: string;
  /** The outbox message the event is about (null for the test event). */
  messageOutboxId: string | null;
  status: 'pending' | 'delivering' | 'delivered' | 'failed' | 'dropped';
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  finishedAt: string | null;
}

/** `POST /api/api-keys/{id}/webhook/test`. */
export interface WebhookTestResponse {
  delivery: WebhookDeliveryView;
}

/** `GET /api/api-keys`. */
export interface ApiKeyListResponse {
  apiKeys: ApiKeyView[];
}

/** `POST /api/api-keys`: the key itself is in this answer only, never again. */
export interface CreatedApiKeyResponse {
  apiKey: ApiKeyView;
  key: string;
}

// ── Logs ─────────────────────────────────────────────────────────────────────────────────────

/** One audit record. `fields` names what changed — never values (S14). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  fields: string[];
  outcome: 'ok' | 'denied' | 'failed';
  address: string | null;
  /** Denied requests from one source to one route within an interval share one record. @default 1 */
  count?: number;
  /** The name of the email server or API key `target` names, when it still exists. */
  targetName?: string;
}

/** One sent-message record: counts, status and the server's reply — no addresses, subject or body. */
export interface SentLogEntry {
  id: string;
  at: string;
  serverId: string | null;
  apiKeyId: string | null;
  recipientCount: number;
  status: 'sent' | 'failed';
  errorCode: string | null;
  serverReply: string | null;
}

/** A page of a newest-first log (`GET /api/audit`, `GET /api/sent-log`); `next` is the following page's `before`. */
export interface LogPage<T> {
  entries: T[];
  next: string | null;
}

// ── Sandbox ──────────────────────────────────────────────────────────────────────────────────

/** `GET /api/sandbox/practice` (sandbox mode only): the fake tenant's ids, as the Entra portal shows them. */
export interface SandboxPracticeResponse {
  tenantId: string;
  tenantDomain: string;
  clientId: string;
  mailbox: string;
  scope: string;
  tokenEndpoint: string;
  smtp: { host: string; port: number };
  thumbprintSha1: string;
  thumbprintSha256: string;
  /** Passphrase of the practice PFX file. */
  pfxPassphrase: string;
  /** Files under `/api/sandbox/practice/files/{name}`. */
  files: { name: string; what: string }[];
}

/** `POST /api/sandbox/practice/client-secret`: a new client secret, shown once. */
export interface SandboxClientSecretResponse {
  id: string;
  value: string;
  expiresAt: string;
}

// ── Outbox ───────────────────────────────────────────────────────────────────────────────────

/** A message's state in the outbox: `queued → sending → sent | failed | unknown`, or `cancelled`. */
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown' | 'cancelled';

/** One delivery attempt of an outbox message. */
export interface OutboxAttempt {
  /** When it started (ISO 8601). */
  at: string;
  /** 1-based. */
  attempt: number;
  outcome: 'sent' | 'transient' | 'permanent' | 'unknown' | 'interrupted';
  /** Catalog code of the failure (`SMTP_TRANSIENT`, …); null when sent. */
  code: string | null;
  /** The SMTP server's reply line. */
  reply: string | null;
  durationMs: number | null;
}

/** A message as the API shows it (`GET /api/messages/{id}`): state and outcome, never the content. */
export interface OutboxMessage {
  id: string;
  messageId: string;
  entryId: string | null;
  source: { kind: string; id: string | null };
  status: OutboxStatus;
  recipientCount: number;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** When the next attempt is due (queued messages). */
  nextAttemptAt: string | null;
  /** After this a transiently failing message is given up (`failed`). */
  expiresAt: string;
  finishedAt: string | null;
  /** The last failure's catalog code and hint, or the outcome code of `unknown`. */
  lastCode: string | null;
  lastHint: string | null;
  /** The last server reply (`250 2.0.0 OK …`, `451 4.7.500 …`). */
  lastReply: string | null;
  /** Recipients the server accepted / refused (sent messages). */
  accepted: string[] | null;
  rejected: string[] | null;
}
