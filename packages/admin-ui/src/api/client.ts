/**
 * The one API client of the WebAdmin: a typed function per server route (packages/server/src/routes).
 *
 * Every request and response shape is the server's HTTP contract from core (`@org/core/api`), the
 * same types the server answers with, imported with `import type` so nothing of core's runtime is
 * pulled in. (admin-ui cannot depend on @org/server, which depends on admin-ui to serve it.) The
 * names below are this client's aliases for them.
 */
import type {
  AdminResponse,
  AdminView,
  ApiErrorBody,
  ApiIssue,
  ApiKeyListResponse,
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
  OutboxAttempt,
  OutboxMessage,
  OutboxStatus,
  SandboxClientSecretResponse,
  SandboxPracticeResponse,
  SendTestResponse,
  SentLogEntry,
  TokenTestResult,
  WebhookDeliveryView,
  WebhookSecretResponse,
  WebhookTestResponse,
} from '@org/core/api';
import type { DiagnosticStep } from '@org/core';

// ── Shapes (the contract's types, under the names the pages use) ───────────────────────────────

export type { ApiErrorBody, ApiIssue, AuditEntry, DiagnosticStep, LastTest, SentLogEntry, TokenTestResult };
export type Admin = AdminView;
/** Public facts of a stored certificate or PFX credential: never the key. */
export type CertificateInfo = CertificateView;
/** An entry as the server shows it (S3): secrets appear only as "set" flags. */
export type EmailServer = EmailServerView;
/** The answer to create/update/get: the entry and core's non-fatal warnings. */
export type SavedEmailServer = EmailServerResponse;
export type ApiKey = ApiKeyView;
/** One webhook event's delivery state (its `webhook-id`, outcome, HTTP status, error code). */
export type WebhookDelivery = WebhookDeliveryView;
/** A key after a webhook change; `secret` only when one was just generated (shown once). */
export type WebhookSecretAnswer = WebhookSecretResponse;
/** One admin account as `GET /api/admins` lists it. */
export interface AdminListItem {
  id: string;
  email: string;
  createdAt: string;
}
/** What a key may do: entries, From addresses or domains, source ranges. */
export type ApiKeyScope = NonNullable<ApiKeyView['scope']>;
export type StepStatus = DiagnosticStep['status'];
/** core's `DiagnoseResult`: the steps and a one-line summary. */
export type DiagnosticsResult = DiagnoseResponse;
/** core's `SendResult`; a refused message comes back as an {@link ApiError} with core's code and hint. */
export type SendTestResult = SendTestResponse;

/**
 * A config to create or update, in core's input shape. On update, omitted secret fields keep their
 * stored values (S3), e.g. `credential: { kind: 'secret' }` without `secret`.
 */
export type EmailServerWrite = Record<string, unknown>;

// The relay's shapes (server/src/routes/relay.ts). Their home should be @org/core/api with the other
// contract types; they are here until that file is free to change.
export interface RelayListener {
  mode: 'starttls' | 'tls';
  host: string;
  port: number;
  listening: boolean;
}
export interface RelayStatusResponse {
  enabled: boolean;
  status: {
    listeners: RelayListener[];
    certificate: {
      source: 'files' | 'generated';
      fingerprintSha256: string;
      subject: string;
      validTo: string;
    };
    maxMessageBytes: number;
    allowInsecureAuthOnLoopback: boolean;
  } | null;
}
export interface RelayDevice {
  id: string;
  name: string;
  username: string;
  entryId: string | null;
  allowedIps: string[];
  allowedSenders: string[];
  fromPolicy: 'enforce' | 'rewrite';
  maxRecipientsPerMessage: number | null;
  maxRecipientsPerDay: number | null;
  maxMessageBytes: number | null;
  enabled: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  lastError: { at: string; reply: string } | null;
  today: { messages: number; recipients: number; refused: number };
}
export type RelayDeviceWrite = Partial<
  Omit<RelayDevice, 'id' | 'createdAt' | 'lastUsedAt' | 'lastError' | 'today'>
>;
/** A device with its password: in the create and new-password answers only. */
export interface RelayDeviceWithPassword {
  device: RelayDevice;
  password: string;
}
export interface RelayTestResult {
  ok: boolean;
  reply: string;
  port: number;
  mode: 'starttls' | 'tls';
}

// The outbox's message shapes are core's (@org/core/api); the summary's stay here with the relay's.
export type { OutboxAttempt, OutboxMessage, OutboxStatus } from '@org/core/api';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = [
  'queued',
  'sending',
  'sent',
  'failed',
  'unknown',
  'cancelled',
];
export interface OutboxMessageDetail {
  message: OutboxMessage;
  attempts: OutboxAttempt[];
}
export interface OutboxBacklog {
  queued: number;
  sending: number;
}
/** A limit of null is off; `limits` and `usage` null: the mailbox is not governed. */
export interface OutboxMailboxLimits {
  maxConnections: number | null;
  messagesPerMinute: number | null;
  recipientsPerDay: number | null;
}
export interface OutboxMailboxUsage {
  connections: number;
  messagesLastMinute: number;
  recipientsLastDay: number;
  backoffUntil: string | null;
}
export interface OutboxMailbox {
  key: string;
  host: string;
  user: string;
  entries: { id: string; name: string }[];
  backlog: OutboxBacklog;
  limits: OutboxMailboxLimits | null;
  usage: OutboxMailboxUsage | null;
}
export interface OutboxSummary {
  at: string;
  counts: Record<OutboxStatus, number>;
  oldestQueuedAt: string | null;
  oldestQueuedAgeSeconds: number | null;
  governor: 'shared' | 'process' | 'off';
  mailboxes: OutboxMailbox[];
  withoutEntry: OutboxBacklog;
}

/** A created key: the listing's fields plus the key itself, returned once and never again. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/**
 * A token test as a page shows it (UI state, not an API shape): the server's result, or — when the
 * token endpoint refused, a 502 — the refusal with its code and hint in place of the result.
 */
export type TokenTestOutcome = TokenTestResult & { error?: ApiErrorBody['error'] };

/** A page of a newest-first log; `next` is the `before` of the following page, null at the end. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

// ── Errors ───────────────────────────────────────────────────────────────────────────────────

/** A failed API call: the server's stable `code`, its message, the hint and field issues. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly issues: ApiIssue[];
  readonly transient: boolean | undefined;
  readonly details: Record<string, unknown>;

  constructor(status: number, body: ApiErrorBody['error'], options?: { cause?: unknown }) {
    super(body.message, options);
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
    this.issues = body.issues ?? [];
    this.transient = body.transient;
    this.details = body.details ?? {};
  }
}

/** True for an {@link ApiError} with the given code. */
export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

// ── Client ───────────────────────────────────────────────────────────────────────────────────

export interface ApiClientOptions {
  /** Prefix for every request. @default '' (same origin as the page) */
  baseUrl?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Called on every 401, e.g. to send the admin back to the sign-in page. */
  onUnauthenticated?: () => void;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | undefined>;

/** Creates the typed client; the app uses {@link api}, tests pass a base URL of a real server. */
export function createApiClient(options: ApiClientOptions = {}) {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));

  async function request<T>(
    method: Method,
    path: string,
    body?: unknown,
    query?: Query,
    extraHeaders?: Record<string, string>,
  ): Promise<T> {
    const qs = query
      ? new URLSearchParams(
          Object.entries(query).flatMap(([k, v]): [string, string][] =>
            v === undefined || v === '' ? [] : [[k, String(v)]],
          ),
        ).toString()
      : '';
    const url = `${baseUrl}/api${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    // The server's CSRF rule: state-changing requests are JSON (and same-origin, which fetch provides).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}),
      });
    } catch (cause) {
      throw new ApiError(
        0,
        {
          code: 'NETWORK',
          message: 'The server could not be reached',
          hint: 'Check that the server is running and your connection works, then try again',
        },
        { cause },
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const error = (data as ApiErrorBody | undefined)?.error;
      if (response.status === 401) options.onUnauthenticated?.();
      throw new ApiError(
        response.status,
        error && typeof error.code === 'string'
          ? error
          : { code: `HTTP_${response.status}`, message: `The server answered ${response.status}` },
      );
    }
    return data as T;
  }

  const enc = encodeURIComponent;
  const auto = (automatic: boolean) => (automatic ? { 'x-automatic-refresh': '1' } : undefined);
  const page = async <T>(path: string, query: Query): Promise<Page<T>> => {
    const r = await request<LogPage<T>>('GET', path, undefined, query);
    return { items: r.entries, next: r.next };
  };

  return {
    // Auth
    login: (email: string, password: string) =>
      request<AdminResponse>('POST', '/auth/login', { email, password }),
    logout: () => request<void>('POST', '/auth/logout', {}),
    me: () => request<AdminResponse>('GET', '/auth/me'),
    /** Every other session of this admin ends; this one stays. */
    changePassword: (currentPassword: string, newPassword: string) =>
      request<void>('POST', '/auth/password', { currentPassword, newPassword }),
    listAdmins: async () => (await request<{ admins: AdminListItem[] }>('GET', '/admins')).admins,
    /** The one-time password is in this answer only. */
    inviteAdmin: (email: string) =>
      request<{ admin: AdminListItem; oneTimePassword: string }>('POST', '/admins', { email }),
    removeAdmin: (id: string) => request<void>('DELETE', `/admins/${enc(id)}`),

    // Email servers
    listServers: async () => (await request<EmailServerListResponse>('GET', '/email-servers')).emailServers,
    getServer: (id: string) => request<SavedEmailServer>('GET', `/email-servers/${enc(id)}`),
    createServer: (config: EmailServerWrite) => request<SavedEmailServer>('POST', '/email-servers', config),
    updateServer: (id: string, config: EmailServerWrite) =>
      request<SavedEmailServer>('PUT', `/email-servers/${enc(id)}`, config),
    deleteServer: (id: string) => request<void>('DELETE', `/email-servers/${enc(id)}`),
    setDefaultServer: (id: string) =>
      request<SavedEmailServer>('POST', `/email-servers/${enc(id)}/default`, {}),

    // Actions on an entry
    testToken: (id: string) => request<TokenTestResult>('POST', `/email-servers/${enc(id)}/test-token`, {}),
    /** With `sendTestTo` a real message is sent, so Exchange's end-of-DATA checks run too. */
    diagnose: (id: string, options: { sendTestTo?: string } = {}) =>
      request<DiagnosticsResult>('POST', `/email-servers/${enc(id)}/diagnose`, options),
    sendTest: (id: string, to: string) =>
      request<SendTestResult>('POST', `/email-servers/${enc(id)}/send-test`, { to }),

    // Sandbox mode: practice credentials of the fake tenant (404 NOT_SANDBOX otherwise)
    practice: () => request<SandboxPracticeResponse>('GET', '/sandbox/practice'),
    newPracticeSecret: () =>
      request<SandboxClientSecretResponse>('POST', '/sandbox/practice/client-secret', {}),
    /** Same-origin download URL of a practice file (the session cookie authorises it). */
    practiceFileUrl: (name: string) => `${baseUrl}/api/sandbox/practice/files/${enc(name)}`,

    // API keys
    listApiKeys: async () => (await request<ApiKeyListResponse>('GET', '/api-keys')).apiKeys,
    /** Without `scope.emailServerIds` the key is bound to the default entry. */
    createApiKey: async (name: string, scope: Partial<ApiKeyScope> = {}): Promise<CreatedApiKey> => {
      const r = await request<CreatedApiKeyResponse>('POST', '/api-keys', { name, ...scope });
      return { ...r.apiKey, key: r.key };
    },
    setApiKeyScope: async (id: string, scope: ApiKeyScope) =>
      (await request<{ apiKey: ApiKey }>('PUT', `/api-keys/${enc(id)}/scope`, scope)).apiKey,
    revokeApiKey: (id: string) => request<void>('DELETE', `/api-keys/${enc(id)}`),
    /** The first set generates the signing secret (in this answer only). */
    setApiKeyWebhook: (id: string, url: string) =>
      request<WebhookSecretAnswer>('PUT', `/api-keys/${enc(id)}/webhook`, { url }),
    removeApiKeyWebhook: (id: string) => request<void>('DELETE', `/api-keys/${enc(id)}/webhook`),
    rotateApiKeyWebhookSecret: (id: string) =>
      request<WebhookSecretAnswer>('POST', `/api-keys/${enc(id)}/webhook/secret`, {}),
    testApiKeyWebhook: async (id: string) =>
      (await request<WebhookTestResponse>('POST', `/api-keys/${enc(id)}/webhook/test`, {})).delivery,

    // SMTP relay
    relayStatus: () => request<RelayStatusResponse>('GET', '/relay'),
    listRelayDevices: async () =>
      (await request<{ devices: RelayDevice[] }>('GET', '/relay/devices')).devices,
    createRelayDevice: (body: RelayDeviceWrite & { name: string }) =>
      request<RelayDeviceWithPassword>('POST', '/relay/devices', body),
    updateRelayDevice: (id: string, body: RelayDeviceWrite) =>
      request<{ device: RelayDevice }>('PATCH', `/relay/devices/${enc(id)}`, body),
    newRelayPassword: (id: string) =>
      request<RelayDeviceWithPassword>('POST', `/relay/devices/${enc(id)}/password`, {}),
    deleteRelayDevice: (id: string) => request<void>('DELETE', `/relay/devices/${enc(id)}`),
    testRelay: (body: { username: string; password: string; to: string }) =>
      request<RelayTestResult>('POST', '/relay/test', body),

    // Logs
    /** Filters match exactly; empty ones are left out. */
    listAudit: (
      query: {
        limit?: number;
        before?: string | undefined;
        actor?: string | undefined;
        action?: string | undefined;
        target?: string | undefined;
      } = {},
    ) =>
      page<AuditEntry>(
        '/audit',
        Object.fromEntries(
          Object.entries(query).filter(([, v]) => v !== undefined && v !== ''),
        ) as typeof query,
      ),
    listSentLog: (query: { limit?: number; before?: string | undefined; serverId?: string } = {}) =>
      page<SentLogEntry>('/sent-log', query),

    // Outbox. `automatic`: a page's live update, not the admin's activity — it does not extend the
    // session's idle timeout (the server's X-Automatic-Refresh).
    outboxSummary: (automatic = false) =>
      request<OutboxSummary>('GET', '/outbox/summary', undefined, undefined, auto(automatic)),
    /** Newest first; empty filters are left out. */
    listMessages: async (
      query: { limit?: number; before?: string | undefined; status?: string; entryId?: string } = {},
      automatic = false,
    ): Promise<Page<OutboxMessage>> => {
      const r = await request<{ messages: OutboxMessage[]; next: string | null }>(
        'GET',
        '/messages',
        undefined,
        query,
        auto(automatic),
      );
      return { items: r.messages, next: r.next };
    },
    getMessage: (id: string, automatic = false) =>
      request<OutboxMessageDetail>('GET', `/messages/${enc(id)}`, undefined, undefined, auto(automatic)),
    /** Only a queued message: otherwise 409 `MESSAGE_NOT_QUEUED`. */
    cancelMessage: async (id: string) =>
      (await request<{ message: OutboxMessage }>('POST', `/messages/${enc(id)}/cancel`, {})).message,
    /** A failed, unknown or cancelled message, with the same Message-ID: otherwise 409 `MESSAGE_NOT_RETRYABLE`. */
    retryMessage: async (id: string) =>
      (await request<{ message: OutboxMessage }>('POST', `/messages/${enc(id)}/retry`, {})).message,
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Raised on `globalThis` when the server answers 401: the router sends the admin to sign in. */
export const UNAUTHENTICATED_EVENT = 'smtp-oauth:unauthenticated';

/** The app's client: same origin as the page; a 401 raises {@link UNAUTHENTICATED_EVENT}. */
export const api: ApiClient = createApiClient({
  onUnauthenticated: () => {
    (globalThis as { dispatchEvent?: (event: Event) => boolean }).dispatchEvent?.(
      new Event(UNAUTHENTICATED_EVENT),
    );
  },
});
