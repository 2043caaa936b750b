import type { LookupAddress } from 'node:dns';
import type { CheckUrl, FetchLike, ProxySetting } from '../internal/https-fetch.js';
import type { DiagnosticFix } from '../setup/types.js';

export type { DiagnosticFix, DiagnosticLink } from '../setup/types.js';

/** The steps of a diagnosis, in the order they run. */
export type DiagnosticStepId =
  | 'config'
  | 'dns'
  | 'tcp'
  | 'tls'
  | 'ehlo'
  | 'token'
  | 'claims'
  | 'auth'
  | 'mail'
  | 'message';

export type DiagnosticStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** One step of a diagnosis. */
export interface DiagnosticStep {
  id: DiagnosticStepId;
  title: string;
  status: DiagnosticStatus;
  /** Wall time the step took, in ms (0 when skipped). */
  durationMs: number;
  /**
   * What was observed: exact server or token-endpoint replies, negotiated parameters.
   * @remarks Secrets are redacted; the access token never appears.
   */
  evidence: string[];
  /** Probable causes, most likely first (on warn/fail). */
  causes?: string[];
  fix?: DiagnosticFix;
}

/** The result of {@link diagnose}. */
export interface DiagnoseResult {
  /** True when no step failed (warnings allowed). */
  ok: boolean;
  steps: DiagnosticStep[];
  /** One line for humans, e.g. `auth failed: 535 5.7.3 Authentication unsuccessful`. */
  summary: string;
}

/** A token source the doctor can use instead of building one from the config. */
export interface DiagnoseTokenProvider {
  getToken(options?: { forceRefresh?: boolean }): Promise<{ accessToken: string; expiresAt: number | Date }>;
}

/** Resolves a host name to addresses (the shape of `dns.promises.lookup(host, { all: true })`). */
export type DiagnoseLookup = (host: string) => Promise<LookupAddress[]>;

/** Options for {@link diagnose}. Every I/O seam has a default. */
export interface DiagnoseOptions {
  /**
   * Send a small test message to this address. Only then do Exchange's end-of-DATA checks run
   * (mailbox permission `430 4.2.0`, SendAs `554 5.2.252`).
   */
  sendTestTo?: string;
  /** RCPT TO for the envelope check. @default sendTestTo, else the mailbox itself */
  testRecipient?: string;
  /** From address to check. @default the config's From, else the mailbox */
  from?: string;
  /** Host name resolution. @default dns.promises.lookup with `all: true` */
  lookup?: DiagnoseLookup;
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /**
   * Extra trusted CA certificates (PEM) for the SMTP server and the token endpoint.
   * @default the config's `tls.ca`, plus the system roots
   */
  ca?: string | string[];
  /** Use this token source instead of building one from the config. */
  tokenProvider?: DiagnoseTokenProvider;
  /** HTTP client of the generic OAuth2 provider when the doctor builds it. @default core's https client */
  fetch?: FetchLike;
  /**
   * Proxy for the token endpoint when the entry names none (`proxy.url` wins): a URL or a function
   * of the target URL (the CLI passes HTTPS_PROXY/NO_PROXY). Shown in the token step's evidence.
   * @default direct
   */
  proxy?: ProxySetting;
  /** Timeout for connecting and for each SMTP reply. @default 15000 */
  timeoutMs?: number;
  /** Timeout for token acquisition. @default 30000 */
  tokenTimeoutMs?: number;
  /**
   * When the doctor builds the token provider: called before each of its requests; throw to refuse
   * (`TOKEN_ENDPOINT_NOT_ALLOWED`). See `TokenProviderBaseOptions.checkUrl`. @default every URL allowed
   */
  checkUrl?: CheckUrl;
  /** Name sent in EHLO. @default 'smtp-oauth-doctor' */
  clientName?: string;
  /** Called after each step completes (for live progress). */
  onStep?: (step: DiagnosticStep) => void;
}
