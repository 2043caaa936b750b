/**
 * A test send that proves the setup as it is now: a brand-new token provider (so a newly acquired
 * token, never a cached one) and a brand-new SMTP connection (never a pooled one that authenticated
 * earlier). When it fails, the doctor runs over the same entry and names the cause and the fix, so a
 * test send and a diagnosis never disagree about why sending does not work.
 */
import type { EmailServerConfig } from '../config/schema.js';
import { diagnose } from '../doctor/diagnose.js';
import type {
  DiagnoseLookup,
  DiagnoseResult,
  DiagnosticFix,
  DiagnosticStep,
  DiagnosticStepId,
} from '../doctor/types.js';
import { isSmtpOAuthError, SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import type { CheckUrl } from '../internal/https-fetch.js';
import type { Logger } from '../internal/logger.js';
import { type MailMessage, validateMessage } from '../message/index.js';
import { createTokenProvider } from '../tokens/create.js';
import { createMailer, type SendResult } from './mailer.js';

/** Options of {@link sendTest}: I/O seams; each has a default. */
export interface SendTestOptions {
  /**
   * Connect to this pre-resolved IP address (an address a guard checked) while TLS still verifies
   * the entry's host name. The doctor's DNS step then sees the same address.
   */
  connectAddress?: string;
  /** Host name resolution for the doctor. @default the connect address if given, else DNS */
  lookup?: DiagnoseLookup;
  /** Extra trusted CA certificates (PEM), SMTP server and token endpoint. @default the entry's `tls.ca` */
  ca?: string | string[];
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Timeouts in ms for connecting and each reply. @default 30000 */
  timeoutMs?: number;
  /** Diagnostics; never message bodies, tokens or secrets. */
  logger?: Logger;
  /**
   * Called before each request of the token provider (and of the doctor's, when it explains a
   * failure); throw to refuse (`TOKEN_ENDPOINT_NOT_ALLOWED`). See `TokenProviderBaseOptions.checkUrl`.
   * @default every URL allowed
   */
  checkUrl?: CheckUrl;
  /**
   * Run the doctor when the send fails, to name the failing step, its cause and the fix.
   * @default true
   */
  explain?: boolean;
}

/** What a test send did: the outcome, when, what it covered, and on failure the doctor's verdict. */
export interface SendTestResult {
  /** True when the server accepted the message. */
  ok: boolean;
  /** When the test ran (ISO 8601). */
  at: string;
  /** The checks this test exercised, in order (e.g. `token`, `auth`, `message`). */
  covered: DiagnosticStepId[];
  /** One line for humans: `Sent: 250 …` or the doctor's summary of the failure. */
  summary: string;
  /** The server's acceptance (only when `ok`). */
  sent?: SendResult;
  /** The typed failure of the send itself: catalog code, message, hint (only when not `ok`). */
  error?: { code: string; message: string; hint?: string };
  /** The step the doctor found failing, its most likely cause and the fix (only when not `ok`). */
  failedStep?: { id: DiagnosticStepId; title: string; cause?: string; fix?: DiagnosticFix };
  /** The doctor's steps over the same entry (only when not `ok` and `explain` is on). */
  steps?: DiagnosticStep[];
}

/** What a successful test send exercised: every step from connecting to the accepted message. */
const COVERED_OAUTH2: DiagnosticStepId[] = ['dns', 'tcp', 'tls', 'ehlo', 'token', 'auth', 'mail', 'message'];

/**
 * Sends one message through the entry with a new token and a new connection, closing both after.
 * Never throws for a failed send: the failure is the result (`ok: false`, the error's code and hint,
 * and the doctor's failing step with cause and fix).
 *
 * @param message the test message; validated like any send.
 * @throws SmtpOAuthError `MESSAGE_INVALID`, `MESSAGE_HEADER_INJECTION` or `MESSAGE_TOO_LARGE` when the
 *   message itself is refused (before any token request or connection).
 * @example
 * const r = await sendTest(config, { to: 'me@contoso.com', subject: 'test', text: 'hi' });
 * if (!r.ok) console.error(r.failedStep?.cause ?? r.error?.message, r.failedStep?.fix?.summary);
 */
export async function sendTest(
  config: EmailServerConfig,
  message: MailMessage,
  options: SendTestOptions = {},
): Promise<SendTestResult> {
  // S8: a refused message is the caller's mistake, not a verdict on the setup.
  validateMessage(message);
  const now = options.now ?? Date.now;
  const at = new Date(now()).toISOString();
  const ca = options.ca ?? config.tls?.ca;
  const oauth = config.auth.type === 'oauth2';
  // A provider of its own: its MSAL client has an empty cache, so the token is newly acquired.
  const mailer = createMailer(config, {
    ...(oauth
      ? {
          tokenProvider: createTokenProvider(config, {
            retry: false,
            now,
            ...(ca ? { ca } : {}),
            ...(options.logger ? { logger: options.logger } : {}),
            ...(options.checkUrl ? { checkUrl: options.checkUrl } : {}),
          }),
        }
      : {}),
    ...(ca ? { ca } : {}),
    ...(options.connectAddress ? { connectAddress: options.connectAddress } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    // One connection, one attempt: a retry or a second connection would hide what failed first.
    limits: { maxConnections: 1, messagesPerMinute: 0 },
    retry: false,
    now,
    timeouts: {
      connection: options.timeoutMs ?? 30_000,
      greeting: options.timeoutMs ?? 30_000,
      socket: options.timeoutMs ?? 30_000,
    },
  });
  const covered = oauth ? COVERED_OAUTH2 : COVERED_OAUTH2.filter((s) => s !== 'token');
  let failure: SmtpOAuthError;
  try {
    const sent = await mailer.send(message);
    return { ok: true, at, covered, summary: `Sent: ${sent.response}`, sent };
  } catch (err) {
    failure = isSmtpOAuthError(err)
      ? err
      : new SmtpOAuthError('NETWORK_CONNECT', `Sending failed: ${String(err)}`, { cause: err });
  } finally {
    await mailer.close();
  }
  const error = {
    code: failure.code,
    message: failure.message,
    ...(failure.hint ? { hint: failure.hint } : {}),
  };
  if (options.explain === false) return { ok: false, at, covered, summary: failure.message, error };
  const diagnosis = await explain(config, options, ca, now);
  const failed = diagnosis?.steps.find((s) => s.status === 'fail');
  return {
    ok: false,
    at,
    covered,
    summary: failed ? diagnosis!.summary : failure.message,
    error,
    ...(failed
      ? {
          failedStep: {
            id: failed.id,
            title: failed.title,
            ...(failed.causes?.[0] ? { cause: failed.causes[0] } : {}),
            ...(failed.fix ? { fix: failed.fix } : {}),
          },
        }
      : {}),
    ...(diagnosis ? { steps: diagnosis.steps } : {}),
  };
}

/** The doctor over the same entry, with its own new token; without a test message of its own. */
async function explain(
  config: EmailServerConfig,
  options: SendTestOptions,
  ca: string | string[] | undefined,
  now: () => number,
): Promise<DiagnoseResult | undefined> {
  const address = options.connectAddress;
  const lookup: DiagnoseLookup | undefined =
    options.lookup ??
    (address ? async () => [{ address, family: address.includes(':') ? 6 : 4 }] : undefined);
  try {
    return await diagnose(config, {
      now,
      ...(ca ? { ca } : {}),
      ...(lookup ? { lookup } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.checkUrl ? { checkUrl: options.checkUrl } : {}),
    });
  } catch {
    // The send's own error still says what failed.
    return undefined;
  }
}
