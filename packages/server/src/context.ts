import type { PracticeCredentials } from './sandbox.js';
import type { ScryptParams } from './auth/passwords.js';
import type { AuditTrail } from './audit.js';
import type { LoginLimiter } from './auth/rate-limit.js';
import type { SessionManager, SessionPolicy } from './auth/sessions.js';
import type { EntryRuntimes } from './entry-runtimes.js';
import type { Governor } from './governor/types.js';
import type { SmtpHostPolicy, TokenEndpointPolicy } from './guards/outbound.js';
import type { Logger } from './logger.js';
import type { LookupCache } from './lookup-cache.js';
import type { Relay } from './relay/relay.js';
import type { Outbox } from './outbox/outbox.js';
import type { WebhookDispatcher } from './webhooks/dispatcher.js';
import type { WebhookTargetPolicy } from './webhooks/target.js';
import type { ServerMetrics } from './routes/metrics.js';
import type { ApiKeyRow } from './store/api-keys-repository.js';
import type { EmailServerRecord } from './store/email-servers-repository.js';
import type { KeyRing } from './secrets/keyring.js';
import type { Store } from './store/db.js';
import type { createRepositories } from './store/repositories.js';

/** Everything a route needs, built once per server by `createServer`. */
export interface AppContext {
  store: Store;
  repos: ReturnType<typeof createRepositories>;
  keyRing: KeyRing;
  now: () => Date;
  logger: Logger;
  sessions: SessionManager;
  sessionPolicy: SessionPolicy;
  limiter: LoginLimiter;
  audit: AuditTrail;
  /** Constant-cost stand-in hash for unknown accounts. */
  dummyHash: string;
  /** scrypt cost for new password hashes (admin invites and password changes). */
  passwordHashing?: ScryptParams;
  cookie: { secure: boolean | 'auto' };
  tokenPolicy: TokenEndpointPolicy;
  smtpHostPolicy: SmtpHostPolicy;
  adminUiDir: string | undefined;
  allowedOrigins: readonly string[];
  bodyLimit: string;
  trustProxy: boolean | number | string;
  /** One mailer and token cache per entry and config version, shared by every request. */
  runtimes: EntryRuntimes;
  /** The durable outbox every send goes through (accepted = committed); the sent log is its view. */
  outbox: Outbox;
  /** The per-mailbox governor; absent when turned off (`governor.enabled: false`). */
  governor?: Governor;
  /** Webhooks of API keys: durable events on final message states, delivered in the background. */
  webhooks: WebhookDispatcher;
  /** Where webhooks may be posted (the S6 rules for an admin-typed URL). */
  webhookPolicy: WebhookTargetPolicy;
  /** Prometheus metrics (`GET /metrics`). */
  metrics: ServerMetrics;
  /** The send API's per-request lookups; cleared by every local change to keys or entries. */
  lookups: { apiKeys: LookupCache<ApiKeyRow>; emailServers: LookupCache<EmailServerRecord> };
  /** Sandbox mode only: the practice credentials of the fake tenant. */
  practice?: PracticeCredentials;
  /** The SMTP relay, when configured (its status for the admin API). */
  relay?: Relay;
}
