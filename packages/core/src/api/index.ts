/**
 * The server's HTTP contract (`@org/core/api`): response and error shapes shared by `@org/server`
 * and the admin UI. Types only — import with `import type`; this entry has no runtime exports.
 */
export type {
  AdminResponse,
  AdminView,
  ApiErrorBody,
  ApiIssue,
  ApiKeyListResponse,
  ApiKeyWebhookView,
  ApiKeyView,
  AuditEntry,
  CertificateView,
  CreatedApiKeyResponse,
  DiagnoseResponse,
  EmailServerListResponse,
  EmailServerResponse,
  EmailServerView,
  LastTest,
  LogPage,
  SandboxClientSecretResponse,
  SandboxPracticeResponse,
  SendResponse,
  SendTestResponse,
  SentLogEntry,
  TestCheck,
  TokenTestResult,
  WebhookDeliveryOutcome,
  WebhookDeliveryView,
  WebhookSecretResponse,
  WebhookTestResponse,
} from './types.js';
