/** What every SMTP session shares with its server and the phases split out of it. */
import type tls from 'node:tls';
import type { Clock } from '../clock.js';
import type { SmtpAuthorizer } from './authorizer.js';
import type { FaultRegistry } from './faults.js';
import type { MailboxCounters, ResolvedLimits } from './limits.js';
import type { PersonaReplies, SmtpPersona } from './replies.js';
import type { SmtpServerOptions, SmtpTlsMode, ThrottledSubmission } from './server.js';
import type { AuthAttempt, StoredMessage } from './store.js';

/** The server-wide state a session reads: options, persona, limits, counters, faults, sinks. */
export interface Shared {
  options: Required<
    Pick<SmtpServerOptions, 'mailboxLogonCheck' | 'sendAsReplyVariant' | 'idleTimeoutMs' | 'maxLineLength'>
  >;
  hve: SmtpServerOptions['highVolumeEmail'];
  authorizer: SmtpAuthorizer;
  clock: Clock;
  persona: SmtpPersona;
  mode: SmtpTlsMode;
  replies: PersonaReplies;
  limits: ResolvedLimits;
  counters: MailboxCounters;
  faults: FaultRegistry;
  secureContext: tls.SecureContext;
  mechanisms: string[];
  hostname: string;
  onMessage(message: StoredMessage): void;
  onAuthAttempt(attempt: AuthAttempt): void;
  throttled: Set<ThrottledSubmission>;
  sessions: Set<{ destroy(): void }>;
}

/** A handler either finishes synchronously (the common, fast case) or returns the async rest. */
export type Step = void | Promise<void>;

/** Stands in for credentials in the transcript. */
export const REDACTED = '<redacted>';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
