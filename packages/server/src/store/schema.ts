/**
 * Table shapes as stored. Portable types only: text, integer and ISO-8601 timestamps in text, so the
 * same queries run on SQLite and PostgreSQL without dialect switches. Booleans are 0/1 integers.
 */
export interface AdminsTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  /** sha256 of the cookie value: a stolen database does not yield live sessions. */
  id_hash: string;
  admin_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface EmailServersTable {
  id: string;
  name: string;
  is_default: number;
  /** Non-secret configuration as JSON. */
  config_json: string;
  /** JSON object: field path → envelope (see secrets/envelope.ts). Never plaintext. */
  secrets_json: string;
  last_test_ok: number | null;
  last_test_at: string | null;
  last_test_message: string | null;
  /** Which check wrote the last test: `token`, `diagnose` or `send-test` (0005). */
  last_test_check: string | null;
  /** The newest failure not yet followed by a success of the same check (0005). */
  last_failure_check: string | null;
  last_failure_at: string | null;
  last_failure_message: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  last_used_at: string | null;
  /** JSON `ApiKeyScope` (auth/api-key-scope.ts); NULL for keys made before bindings existed. */
  scope_json: string | null;
  /** The key's webhook (0008): where final states of its messages are posted; NULL: none. */
  webhook_url: string | null;
  /** Envelope of the `whsec_…` signing secret (secrets/envelope.ts). Never plaintext. */
  webhook_secret: string | null;
  webhook_secret_created_at: string | null;
  /** The last delivery attempt: when, `delivered` / `retrying` / `failed` / `dropped`, HTTP status, error code. */
  webhook_last_at: string | null;
  webhook_last_outcome: string | null;
  webhook_last_http_status: number | null;
  webhook_last_error: string | null;
  webhook_last_event_id: string | null;
}

export interface AuditLogTable {
  /** Sortable: zero-padded time plus a per-store sequence, so equal clock readings keep their order. */
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  fields_json: string;
  outcome: string;
  address: string | null;
  /** How many denials this row stands for (aggregated per source, route and interval); NULL = 1. */
  count: number | null;
}

export interface SentLogTable {
  id: string;
  at: string;
  server_id: string | null;
  api_key_id: string | null;
  recipient_count: number;
  status: string;
  error_code: string | null;
  server_reply: string | null;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_started_at: string;
  locked_until: string | null;
}

export interface KeyRingInstancesTable {
  instance_id: string;
  host: string;
  pid: number;
  primary_key_id: string;
  key_ids_json: string;
  seen_at: string;
}

/** One message in the outbox (see src/outbox/). */
export interface OutboxMessagesTable {
  id: string;
  created_at: string;
  updated_at: string;
  entry_id: string | null;
  source_kind: string;
  source_id: string | null;
  idempotency_key: string | null;
  payload_hash: string | null;
  message_id: string;
  content_kind: string;
  content: string | null;
  envelope_json: string | null;
  recipient_count: number;
  status: string;
  attempts: number;
  next_attempt_at: string;
  expires_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  transmitting: number;
  last_code: string | null;
  last_hint: string | null;
  last_reply: string | null;
  accepted_json: string | null;
  rejected_json: string | null;
  finished_at: string | null;
}

/** One delivery attempt of an outbox message. */
export interface OutboxAttemptsTable {
  id: string;
  outbox_id: string;
  at: string;
  attempt: number;
  outcome: string;
  code: string | null;
  reply: string | null;
  duration_ms: number | null;
  instance: string | null;
}

/** One webhook event and its delivery state (0008, see src/webhooks/). */
export interface WebhookDeliveriesTable {
  id: string;
  api_key_id: string;
  outbox_id: string | null;
  event_type: string;
  payload: string;
  created_at: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_http_status: number | null;
  last_error: string | null;
  finished_at: string | null;
}

/** A connection lease of the governor (PostgreSQL deployments). */
export interface GovernorLeasesTable {
  id: string;
  key: string;
  owner: string;
  expires_at: string;
}

/** One send admitted by the governor (the per-minute and per-day windows). */
export interface GovernorSendsTable {
  id: string;
  key: string;
  at: string;
  recipients: number;
}

export interface Database {
  admins: AdminsTable;
  sessions: SessionsTable;
  email_servers: EmailServersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  sent_log: SentLogTable;
  login_throttle: LoginThrottleTable;
  key_ring_instances: KeyRingInstancesTable;
  outbox_messages: OutboxMessagesTable;
  outbox_attempts: OutboxAttemptsTable;
  governor_leases: GovernorLeasesTable;
  governor_sends: GovernorSendsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
