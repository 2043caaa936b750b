import type { EmailServerConfig, OAuth2AuthConfig } from '../../config/schema.js';
import type { CertificateCredential } from '../../credentials/index.js';
import type { SmtpOAuthError } from '../../errors/smtp-oauth-error.js';
import type { FixValues } from '../../setup/fixes.js';
import type { ClaimsView } from '../claims.js';
import type { SmtpDialogue } from '../smtp-dialogue.js';

/**
 * What the steps of one diagnosis hand on to each other. The config step creates it from a valid
 * entry; later steps fill in what they found (addresses, the SMTP session, the token) for the steps
 * after them. The runner in `diagnose.ts` reads it only to decide what to skip.
 */
export interface DiagnosisState {
  // ── fixed once the config step passed ──
  readonly config: EmailServerConfig;
  /** The loaded client certificate, when the entry uses one. */
  readonly certificate?: CertificateCredential;
  /** MAIL FROM: the option, else the entry's From, else the mailbox. */
  readonly from: string;
  /** The entry's own values for fix texts (tenant, client id, mailbox, cloud). */
  readonly fixValues: FixValues;
  readonly microsoft: boolean;
  /** The OAuth2 settings, when the entry authenticates with a token. */
  readonly oauth?: OAuth2AuthConfig;
  /** The host without IPv6 brackets: sockets and TLS want it bare. */
  readonly bareHost: string;
  readonly tlsOptions: { ca?: string | string[]; minVersion: 'TLSv1.2' };
  readonly now: () => number;
  /** Timeout for connecting and for each SMTP reply, in ms. */
  readonly timeoutMs: number;
  /** Name sent in EHLO. */
  readonly clientName: string;
  // ── found by the steps ──
  /** dns: the addresses the host resolved to. */
  addresses: string[];
  /** tcp…ehlo: the open SMTP session; `undefined` once closed after a failure. */
  conn?: SmtpDialogue;
  /** tcp: the address the session connected to (auth reconnects there). */
  connectedAddress?: string;
  /** ehlo: the AUTH mechanisms the server offered. */
  authMechanisms: string[];
  /** token: the access token; it never leaves the diagnosis. */
  accessToken?: string;
  /** token: the typed failure, named when auth is skipped. */
  tokenError?: SmtpOAuthError;
  /** claims: what the token says (roles, tenant, app). */
  claims?: ClaimsView;
}
