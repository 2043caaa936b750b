/**
 * The one API client of the WebAdmin: a typed function per server route (packages/server/src/routes).
 *
 * Config types come from core (`import type`, so nothing of core's runtime is pulled in here). The
 * response shapes mirror the server's views (packages/server/src/email-servers.ts `EmailServerView`,
 * routes/*.ts) and are written out here because admin-ui cannot depend on @org/server: the server
 * depends on admin-ui to serve it, and the reverse edge would be a workspace cycle.
 */
import type { DiagnoseResult, DiagnosticStep, SendResult, TokenFinding } from '@org/core';
import type { ConfigWarning, PublicEmailServerConfig } from '@org/core/config';

// ── Shapes ───────────────────────────────────────────────────────────────────────────────────

/** One validation problem as the server reports it (`auth.clientId`, `host`, …). */
export interface ApiIssue {
  path: string;
  message: string;
}

export interface Admin {
  id: string;
  email: string;
}

/** Public facts of a stored certificate or PFX credential (server `CertificateView`): never the key. */
export interface CertificateInfo {
  subject: string;
  issuer?: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  notBefore?: string;
  notAfter: string;
  /** Whole days until expiry (negative when expired). */
  expiresInDays: number;
}

export interface LastTest {
  ok: boolean;
  at: string;
  message: string | null;
}

/** An entry as the server shows it (S3): secrets appear only as "set" flags. */
export interface EmailServer {
  id: string;
  name: string;
  isDefault: boolean;
  /** core's `redactConfig` output: the credential is `{ kind, clientSecretSet }` or `{ kind, set, thumbprint? }`. */
  config: PublicEmailServerConfig;
  clientSecretSet: boolean;
  passwordSet: boolean;
  certificate: CertificateInfo | null;
  /** Why a stored certificate cannot be used (expired, key mismatch, wrong passphrase), from core. */
  certificateProblem?: { code: string; message: string } | null;
  lastTest: LastTest | null;
  createdAt: string;
  updatedAt: string;
}

/** The answer to create/update/get: the entry and core's non-fatal warnings. */
export interface SavedEmailServer {
  emailServer: EmailServer;
  warnings: ConfigWarning[];
}

/**
 * A config to create or update, in core's input shape. On update, omitted secret fields keep their
 * stored values (S3), e.g. `credential: { kind: 'secret' }` without `secret`.
 */
export type EmailServerWrite = Record<string, unknown>;

/** One check on the token's claims: core's `TokenFinding`. */
export type ClaimFinding = TokenFinding;

/**
 * A token test (server `TokenTestResult`): core's inspection of a fresh token — claims decoded, never
 * the token. A token the endpoint refuses comes back as an {@link ApiError} with core's code and hint.
 */
export interface TokenTestResult {
  ok: boolean;
  expiresAt: string;
  tokenType: string;
  claims: Record<string, unknown>;
  findings: ClaimFinding[];
  /** Only in the UI's own state: the refusal, shown where the result would be. */
  error?: ApiErrorBody['error'];
}

/** One step of core's `diagnose()`: status, evidence (the exact replies), causes and the fix. */
export type { DiagnosticStep };
export type StepStatus = DiagnosticStep['status'];
/** core's `DiagnoseResult`: the steps and a one-line summary. */
export type DiagnosticsResult = DiagnoseResult;
/** core's `SendResult`; a refused message comes back as an {@link ApiError} with core's code and hint. */
export type SendTestResult = SendResult;

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The key itself: returned once, never again. */
  key: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  fields: string[];
  outcome: 'ok' | 'denied' | 'failed';
  address: string | null;
}

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

/** A page of a newest-first log; `next` is the `before` of the following page, null at the end. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    hint?: string;
    issues?: ApiIssue[];
    /** Whether retrying may help (core's classification). */
    transient?: boolean;
    /** Safe facts from core, e.g. the server's reply or the AADSTS code. */
    details?: Record<string, unknown>;
  };
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

  async function request<T>(method: Method, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = query
      ? new URLSearchParams(
          Object.entries(query).flatMap(([k, v]): [string, string][] =>
            v === undefined || v === '' ? [] : [[k, String(v)]],
          ),
        ).toString()
      : '';
    const url = `${baseUrl}/api${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
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
  const page = async <T>(path: string, query: Query): Promise<Page<T>> => {
    const r = await request<{ entries: T[]; next: string | null }>('GET', path, undefined, query);
    return { items: r.entries, next: r.next };
  };

  return {
    // Auth
    login: (email: string, password: string) =>
      request<{ admin: Admin }>('POST', '/auth/login', { email, password }),
    logout: () => request<void>('POST', '/auth/logout', {}),
    me: () => request<{ admin: Admin }>('GET', '/auth/me'),

    // Email servers
    listServers: async () =>
      (await request<{ emailServers: EmailServer[] }>('GET', '/email-servers')).emailServers,
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

    // API keys
    listApiKeys: async () => (await request<{ apiKeys: ApiKey[] }>('GET', '/api-keys')).apiKeys,
    createApiKey: async (name: string): Promise<CreatedApiKey> => {
      const r = await request<{ apiKey: ApiKey; key: string }>('POST', '/api-keys', { name });
      return { ...r.apiKey, key: r.key };
    },
    revokeApiKey: (id: string) => request<void>('DELETE', `/api-keys/${enc(id)}`),

    // Logs
    listAudit: (query: { limit?: number; before?: string | undefined } = {}) =>
      page<AuditEntry>('/audit', query),
    listSentLog: (query: { limit?: number; before?: string | undefined; serverId?: string } = {}) =>
      page<SentLogEntry>('/sent-log', query),
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
