import { isIP } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import nodemailer from 'nodemailer';
import { isMicrosoftHost, parseEntraTokenEndpoint } from '../config/microsoft.js';
import type { EmailServerConfig } from '../config/schema.js';
import {
  type ErrorContext,
  errorFromNetwork,
  errorFromSmtpReply,
  isSmtpOAuthError,
  SmtpOAuthError,
} from '../errors/index.js';
import { withCause } from '../internal/cause.js';
import { withSystemRoots } from '../internal/https-fetch.js';
import { type Logger, nodemailerLogger, safeLogger } from '../internal/logger.js';
import { createRateLimiter, createSemaphore, type RateLimiter } from '../internal/rate-limiter.js';
import { backoffDelay, defaultSleep, type RetryOptions, resolveRetry } from '../internal/retry.js';
import {
  addressProblem,
  createMessageId,
  DEFAULT_MAX_MESSAGE_BYTES,
  hasLineBreakOrNul,
  type MailAddress,
  type MailMessage,
  toNodemailer,
  validateMessage,
} from '../message/index.js';
import type { AttachmentAccess } from '../message/index.js';
import { createTokenCache, type TokenCache } from '../tokens/cache.js';
import { type CreateTokenProviderOptions, createTokenProvider } from '../tokens/create.js';
import type { TokenProvider } from '../tokens/types.js';
import {
  authCommandLines,
  OAUTHBEARER_ERROR_ACK,
  type OAuth2Mechanism,
  oauthBearerInitialResponse,
  xoauth2InitialResponse,
} from './sasl.js';
import { expectEmailServerConfig, expectObject } from '../internal/guard.js';

/** Exchange Online's per-mailbox limits (reference §3). */
export const EXCHANGE_MAX_CONNECTIONS = 3;
export const EXCHANGE_MESSAGES_PER_MINUTE = 30;

/** Connection and rate limits of a mailer. */
export interface MailerLimits {
  /** Pooled SMTP connections. @default 3 for Exchange, else 5 */
  maxConnections?: number;
  /** Messages handed to the server per minute; 0 or Infinity for none. @default 30 for Exchange, else none */
  messagesPerMinute?: number;
}

/** Options of {@link createMailer}: I/O seams and overrides. */
export interface MailerOptions {
  /**
   * Where tokens come from. A {@link TokenCache} is used as is (share one across mailers of the same
   * app); any other provider is wrapped in one. @default built from the entry with {@link createTokenProvider}
   */
  tokenProvider?: TokenProvider;
  /** Options for the token provider built from the entry (ignored with `tokenProvider`). */
  token?: CreateTokenProviderOptions;
  /**
   * Extra CA certificates (PEM) trusted for the SMTP server, in addition to the system roots.
   * Verification is never turned off. @default the entry's `tls.ca`
   */
  ca?: string | string[];
  /**
   * Connect to this pre-resolved IP address instead of resolving the host, while TLS still checks
   * the certificate against the entry's host name (closes the DNS-rebinding gap of an address check).
   */
  connectAddress?: string;
  /**
   * Apply Exchange Online's per-mailbox limits (3 connections, 30 messages/minute) unless `limits`
   * or the entry's `limits` say otherwise. @default true for Microsoft hosts
   */
  exchangeLimits?: boolean;
  /** Overrides the entry's `limits`. `false`: no rate limit and 5 connections (benchmarks, relays). */
  limits?: MailerLimits | false;
  /**
   * Retries of transient send failures (4xx replies, network), bounded, with backoff and jitter;
   * 5xx is never retried. `false` disables. Every attempt carries the same Message-ID and Date.
   * `432 4.3.2` (the mailbox's connection limit) has its own, longer backoff and budget on top.
   * @default { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30000 }
   */
  retry?: RetryOptions | false;
  /**
   * Whether an attempt whose outcome is unknown (`SMTP_OUTCOME_UNKNOWN`: the connection was lost,
   * or no reply came, after the whole message and its final "." were sent) may be retried. The
   * retry carries the same Message-ID, so recipients and mail stores can recognise a duplicate;
   * it may still deliver the message twice.
   * @default false (the send fails with `SMTP_OUTCOME_UNKNOWN`; at most once delivery)
   */
  retryUnknownOutcome?: boolean;
  /** Clock, ms since the epoch (rate limit, token expiry). @default Date.now */
  now?: () => number;
  /** Waits (rate limit, backoff). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Diagnostics at any level never include message bodies, tokens or secrets: nodemailer's
   * protocol debug output (which logs bodies) is never enabled, and every line is redacted.
   */
  logger?: Logger;
  /**
   * Keep email addresses (recipients, the mailbox) in log lines. They are personal data, so by
   * default every address in a line becomes `[address]`. @default false
   */
  logAddresses?: boolean;
  /** Largest message, encoded. @default 157286400 (Exchange Online) */
  maxMessageBytes?: number;
  /** Most recipients per message. @default 500 (Exchange Online) */
  maxRecipients?: number;
  /** Timeouts in ms. @default { connection: 30000, greeting: 30000, socket: 60000 } */
  timeouts?: { connection?: number; greeting?: number; socket?: number };
  /** Host name sent in EHLO. @default the machine's host name */
  clientName?: string;
  /** Lets attachments read local files (`path`) or fetch URLs (`href`). @default neither */
  attachmentAccess?: AttachmentAccess;
}

/** What the server said about a sent message. */
export interface SendResult {
  /** The Message-ID header of the sent message. */
  messageId: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /** Recipients the server refused (the message went to the others). */
  rejected: string[];
  /** The server's final reply, e.g. `250 2.0.0 OK <…> [Hostname=…]`. */
  response: string;
}

/** A message already in RFC 5322 form (e.g. received by a relay), sent as is. */
export interface RawMessage {
  /** The whole message, headers and body, as received. Sent byte for byte (no re-encoding). */
  raw: Uint8Array;
  /** The SMTP envelope: MAIL FROM and RCPT TO addresses. */
  envelope: { from: string; to: string[] };
  /** The message's Message-ID, reported back in the result (the raw header is not rewritten). */
  messageId?: string;
}

/** A pooled SMTP sender for one email-server entry. */
export interface Mailer {
  /**
   * Validates the message (before any network I/O), then sends it.
   * @throws SmtpOAuthError with a catalog code and a hint naming the entry's values.
   */
  send(message: MailMessage): Promise<SendResult>;
  /**
   * Sends a message that is already MIME, unchanged, with the given envelope; same retries and
   * limits as {@link Mailer.send}.
   * @throws SmtpOAuthError `MESSAGE_INVALID` (bad envelope), `MESSAGE_TOO_LARGE`, or a delivery code.
   */
  sendRaw(message: RawMessage): Promise<SendResult>;
  /**
   * Connects, negotiates TLS and authenticates, without sending.
   * @throws SmtpOAuthError a token, TLS, network or SMTP AUTH code; `MAILER_CLOSED` after {@link Mailer.close}.
   */
  verify(): Promise<void>;
  /**
   * Closes idle connections; sends in progress finish first. Later calls of send(), sendRaw() and
   * verify() fail with `MAILER_CLOSED`.
   * @param options.force Also end connections in the middle of a send (a shutdown deadline ran
   * out): those sends fail, with `SMTP_OUTCOME_UNKNOWN` when the final "." was already sent.
   * @default { force: false }
   */
  close(options?: { force?: boolean }): Promise<void>;
}

interface NodemailerError extends Error {
  code?: string;
  /** The system/TLS error code nodemailer replaced with its own (ESOCKET, ETLS, …). */
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
}

interface SentInfo {
  messageId?: string;
  accepted?: unknown[];
  rejected?: unknown[];
  response?: string;
}

const addressText = (a: unknown): string =>
  typeof a === 'string'
    ? a
    : a && typeof a === 'object' && 'address' in a
      ? String((a as MailAddress).address)
      : String(a);

function parseFrom(value: string): MailAddress {
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  return m?.[2]
    ? { ...(m[1] ? { name: m[1].replace(/^"|"$/g, '') } : {}), address: m[2] }
    : { address: value.trim() };
}

/**
 * Creates a mailer for an email-server entry: nodemailer's pooled SMTP transport with XOAUTH2
 * tokens from a shared {@link TokenCache}.
 *
 * - TLS is mandatory: STARTTLS required on 587 (never opportunistic), implicit TLS on 465,
 *   certificate verification on, TLS 1.2 or newer; AUTH never goes over plaintext.
 * - One token serves every connection; a connection picks up the cache's current token when it
 *   authenticates, so a refreshed token is used by new connections without extra requests.
 * - AUTH follows RFC 4954 §4: the token goes on the `AUTH XOAUTH2` line only when the line stays
 *   within 512 octets, else in the two-step form (`AUTH XOAUTH2` → `334` → token).
 * - A refused token (`535`, or any other 5xx reply to AUTH, or `501 5.5.127 … Token will expire
 *   soon`) is dropped from the cache, a fresh one fetched, and the message retried once: at most
 *   two AUTH attempts per send.
 * - Exchange's per-mailbox limits are respected by default for Microsoft hosts; on `432 4.3.2` the
 *   mailer lowers its connection count for the mailbox (raising it again slowly) and retries the
 *   message after a longer backoff, so the connection limit never loses a message.
 *
 * Delivery semantics: at most once by default. Every attempt of one send carries the same
 * Message-ID and Date. Failures before the final "." of DATA are retried (transient ones, bounded);
 * a failure after it without a reply is `SMTP_OUTCOME_UNKNOWN` and is not retried unless
 * `retryUnknownOutcome` is set (then: at least once, duplicates share the Message-ID). The error
 * reports the decisive failure: once an attempt's outcome was unknown, a later failed retry does
 * not replace it.
 *
 * @throws ConfigError, synchronously: `CONFIG_INVALID` for an entry of the wrong shape (e.g. plain JS
 * without `auth`); `CREDENTIAL_INVALID` / `CREDENTIAL_EXPIRED` from loading a certificate or PFX
 * credential (a wrong PFX passphrase included). `send()` rejects with the codes it lists.
 * @example
 * // config: an entry from loadConfigFile(), configFromEnv() or defineConfig()
 * const mailer = createMailer(config);
 * await mailer.send({ to: 'someone@example.com', subject: 'Hi', text: 'Hello' });
 * await mailer.close();
 */
export function createMailer(config: EmailServerConfig, options: MailerOptions = {}): Mailer {
  expectEmailServerConfig(config);
  expectObject(options, 'options');
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const log = safeLogger(options.logger, { addresses: options.logAddresses === true });
  const auth = config.auth;
  const microsoft = options.exchangeLimits ?? isMicrosoftHost(config.host);

  const configured = options.limits === false ? undefined : (options.limits ?? config.limits);
  const maxConnections =
    options.limits === false ? 5 : (configured?.maxConnections ?? (microsoft ? EXCHANGE_MAX_CONNECTIONS : 5));
  const perMinute =
    options.limits === false
      ? 0
      : (configured?.messagesPerMinute ?? (microsoft ? EXCHANGE_MESSAGES_PER_MINUTE : 0));
  const limiter: RateLimiter | undefined =
    perMinute > 0 && Number.isFinite(perMinute)
      ? createRateLimiter({ limit: perMinute, windowMs: 60_000, now, sleep })
      : undefined;
  // A message is handed to the pool only when a connection can take it: the rate-limit permit is
  // spent when the message actually goes out (not while it waits in nodemailer's queue, which would
  // let a burst reach the server later inside one window), and the connection count can be lowered
  // at run time when the server says the mailbox has too many (432 4.3.2).
  const slots = createSemaphore(maxConnections);
  const congestion = createCongestionControl(maxConnections, now, (n) => {
    slots.setPermits(n);
    // nodemailer's pool reads this on every scheduling decision: no new connection beyond it.
    const pool = (transport as unknown as { transporter?: { options?: { maxConnections?: number } } })
      .transporter;
    if (pool?.options) pool.options.maxConnections = n;
  });
  const policy = resolveRetry(
    options.retry === false
      ? false
      : { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000, sleep, ...options.retry },
  );

  const ctx: ErrorContext = { mailbox: config.user, host: config.host, now };
  // A server may echo the AUTH LOGIN password line in its reply; no pattern can tell it from other base64.
  if (config.auth.type === 'password') ctx.secrets = [config.auth.password];
  if (auth.type === 'oauth2') {
    ctx.clientId = auth.clientId;
    ctx.scope = auth.scope;
    const tenant = parseEntraTokenEndpoint(auth.tokenEndpoint)?.tenant;
    if (tenant) ctx.tenant = tenant;
  }

  const smtpCa = options.ca ?? config.tls?.ca;
  let tokens: TokenCache | undefined;
  if (auth.type === 'oauth2') {
    const given = options.tokenProvider;
    if (
      given &&
      typeof (given as TokenCache).invalidate === 'function' &&
      typeof (given as TokenCache).peek === 'function'
    ) {
      tokens = given as TokenCache;
    } else {
      const provider =
        given ??
        createTokenProvider(config, {
          now,
          ...(options.logger ? { logger: options.logger } : {}),
          ...(smtpCa ? { ca: smtpCa } : {}),
          ...options.token,
        });
      tokens = createTokenCache(provider, { now, ...(options.logger ? { logger: options.logger } : {}) });
    }
  }

  // The token each refused AUTH presented, so the cache drops exactly that one (never on the error
  // object itself: errors are logged and serialised, tokens must not be).
  const refusedTokens = new WeakMap<object, string>();
  let closingReply: { response: string; at: number } | undefined;
  const tokenErrors = new WeakMap<object, unknown>();
  // Whether the server is Exchange decides whose policy the hints describe.
  const exchangeServer = microsoft || (auth.type === 'oauth2' && auth.provider === 'entra');

  /**
   * XOAUTH2 through nodemailer's customAuth hook instead of its built-in handler: the built-in one
   * puts the whole blob on the AUTH line (RFC 4954 §4 violation; Dovecot: `500 5.5.2 Line too
   * long`) and answers a `334` error challenge by sending the same token again on the same
   * connection (two refused AUTHs per connection; servers add penalties per failure).
   */
  const xoauth2 = async (ctx: {
    sendCommand: (cmd: string) => Promise<{ status: number; response: string }>;
    authMethods?: string[];
  }): Promise<void> => {
    const cache = tokens as TokenCache;
    let token: string;
    try {
      token = (await cache.getToken()).accessToken;
    } catch (err) {
      const e = new Error('XOAUTH2 access token unavailable');
      tokenErrors.set(e, err);
      throw e;
    }
    // XOAUTH2 where offered (Exchange, Gmail), else RFC 7628 OAUTHBEARER. nodemailer lists only
    // the mechanisms it knows (not OAUTHBEARER), so a 504 to the bare AUTH line — before any token
    // was sent — moves on to the other mechanism.
    const offered = (ctx.authMethods ?? []).map((m) => m.toUpperCase());
    const order: OAuth2Mechanism[] = offered.includes('XOAUTH2')
      ? ['XOAUTH2', 'OAUTHBEARER']
      : ['OAUTHBEARER', 'XOAUTH2'];
    let reply = { status: 0, response: '' };
    for (const mechanism of order) {
      const lines = authCommandLines(
        mechanism,
        mechanism === 'XOAUTH2'
          ? xoauth2InitialResponse(config.user, token)
          : oauthBearerInitialResponse(config.user, token, config.host, config.port),
      );
      reply = await ctx.sendCommand(lines.command);
      if (lines.continuation !== undefined && reply.status === 504) continue;
      if (lines.continuation !== undefined && reply.status === 334)
        reply = await ctx.sendCommand(lines.continuation);
      // A 334 here is an error challenge (Gmail: base64 JSON); the client answers as the mechanism
      // prescribes (RFC 7628 §3.2.3: %x01) and gets the final reply. Never a second token here.
      if (reply.status === 334)
        reply = await ctx.sendCommand(mechanism === 'OAUTHBEARER' ? OAUTHBEARER_ERROR_ACK : '');
      break;
    }
    if (reply.status === 235) return;
    // RFC 5321 §3.8: with 421 the server closes at once, and nodemailer fails the message with a
    // bare "connection closed" before this handler's error arrives; keep the reply for mapError.
    if (reply.status === 421) closingReply = { response: reply.response, at: now() };
    const e = new Error('Authentication failed');
    refusedTokens.set(e, token);
    throw e;
  };

  const authOption =
    auth.type === 'oauth2'
      ? { type: 'custom' as const, method: CUSTOM_XOAUTH2, user: config.user }
      : auth.type === 'password'
        ? { user: config.user, pass: auth.password }
        : undefined;

  const transport = nodemailer.createTransport({
    pool: true,
    host: options.connectAddress ?? config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: false,
    opportunisticTLS: false,
    // SNI must be a host name (RFC 6066); an IP host is still verified against the certificate.
    ...(isIP(config.host) ? {} : { servername: config.host }),
    ...(options.clientName ? { name: options.clientName } : {}),
    tls: {
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...(isIP(config.host) ? {} : { servername: config.host }),
      // One context for every connection: parsing the system roots plus the CA per connection is
      // measurable at bulk rates.
      ...(smtpCa
        ? { secureContext: createSecureContext({ ca: withSystemRoots(smtpCa), minVersion: 'TLSv1.2' }) }
        : {}),
    },
    ...(authOption ? { auth: authOption } : {}),
    ...(auth.type === 'oauth2'
      ? { authMethod: CUSTOM_XOAUTH2, customAuth: { [CUSTOM_XOAUTH2]: xoauth2 } }
      : {}),
    maxConnections,
    // nodemailer would silently resend a message whose connection closed while it was being sent —
    // also after the final "." (a duplicate). Retries are decided here, knowing the stage.
    maxRequeues: 0,
    maxMessages: 100,
    connectionTimeout: options.timeouts?.connection ?? 30_000,
    greetingTimeout: options.timeouts?.greeting ?? 30_000,
    socketTimeout: options.timeouts?.socket ?? 60_000,
    // S4: nodemailer's debug mode logs the SMTP dialogue including message bodies.
    debug: false,
    transactionLog: false,
    // Without a logger nodemailer's own no-op logger is cheaper than formatting lines for nobody.
    logger: options.logger ? nodemailerLogger(log) : false,
    // Messages are data, never instructions to read local files or fetch URLs.
    disableFileAccess: options.attachmentAccess?.files !== true,
    disableUrlAccess: options.attachmentAccess?.urls !== true,
  });

  function mapError(err: unknown, from?: string): SmtpOAuthError {
    if (isSmtpOAuthError(err)) return err;
    const e = (err ?? {}) as NodemailerError;
    const errCtx = from ? { ...ctx, from } : ctx;
    const tokenError = err && typeof err === 'object' ? tokenErrors.get(err) : undefined;
    if (tokenError !== undefined && isSmtpOAuthError(tokenError)) return tokenError;
    const recentClose =
      e.code === 'ECONNECTION' && !e.response && closingReply && now() - closingReply.at < 2_000
        ? closingReply
        : undefined;
    if (recentClose) {
      e.response = recentClose.response;
      e.command = 'AUTH XOAUTH2';
    }
    const reply = typeof e.response === 'string' && /^\d{3}/.test(e.response.trim()) ? e.response : undefined;
    // A server reply says more than the socket error that followed it (e.g. `421 …` then close).
    if (reply && e.code !== 'ETLS') {
      return withCause(
        errorFromSmtpReply(
          {
            response: reply,
            ...(e.responseCode ? { code: e.responseCode } : {}),
            ...(e.command ? { command: e.command.replace(CUSTOM_XOAUTH2, 'XOAUTH2') } : {}),
            server: exchangeServer ? 'exchange' : 'other',
          },
          errCtx,
        ),
        err,
      );
    }
    const networkish =
      e.code === 'ETLS' ||
      e.code === 'ECONNECTION' ||
      e.code === 'ESOCKET' ||
      e.code === 'ETIMEDOUT' ||
      e.code === 'EDNS';
    if (networkish) {
      // nodemailer overwrites a TLS verification code (UNABLE_TO_VERIFY_LEAF_SIGNATURE, …) with
      // ESOCKET and keeps the original in `originalCode`: classify by the original.
      const probe = e.originalCode ? { code: e.originalCode, message: e.message, cause: err } : err;
      const net = errorFromNetwork(probe, errCtx);
      if (net) return withCause(net, err);
    }
    const net = errorFromNetwork(err, errCtx);
    if (net) return net;
    const message = err instanceof Error ? err.message : String(err);
    if (/pool was closed|closed pool/i.test(message))
      return new SmtpOAuthError('MAILER_CLOSED', 'The mailer was closed before the message was sent', {
        cause: err,
      });
    return new SmtpOAuthError('NETWORK_CONNECT', `Sending failed: ${message}`, { cause: err });
  }

  /**
   * Whether a fresh token may help: the server refused the token itself (`535` other than
   * 5.7.139, any other permanent reply to AUTH, or HVE's "Token will expire soon"). Not for
   * 5.7.139 (SMTP AUTH disabled, security defaults), 5.7.30 (basic auth), an unknown XOAUTH2
   * user, or temporary failures: no fresh token changes those.
   */
  const tokenRefused = (mapped: SmtpOAuthError): boolean =>
    mapped.code === 'SMTP_AUTH_REJECTED' || mapped.code === 'SMTP_AUTH_TOKEN_EXPIRING';

  /** Drops the token a refused AUTH presented and fetches a new one (one request for many callers). */
  async function renewToken(raw: unknown, mapped: SmtpOAuthError): Promise<void> {
    const cache = tokens as TokenCache;
    const used = raw && typeof raw === 'object' ? refusedTokens.get(raw) : undefined;
    log.log('info', `${mapped.code} at AUTH; retrying once with a freshly fetched token`, {
      mailbox: config.user,
    });
    cache.invalidate(used);
    await cache.getToken();
  }

  type OutgoingMail =
    | ReturnType<typeof toNodemailer>
    | { raw: Buffer; envelope: { from: string; to: string[] }; messageId?: string };

  /** Per attempt: whether the whole message (so also the final ".") was handed to the connection. */
  interface Attempt {
    streamed: boolean;
  }
  // Every attempt's message stream ends in this pass-through. Its readable side ends only when the
  // SMTP connection has read the last byte into DATA — right before it writes the final "." — so
  // from then on a lost connection leaves the outcome open. (A transform's flush would fire early:
  // the stages before DATA buffer a small message completely.)
  transport.use('stream', (mail, done) => {
    const attempt = (mail.data as { [TRACK]?: Attempt })[TRACK];
    if (attempt)
      mail.message.processFunc((input: Readable) => {
        const out = new PassThrough();
        out.once('end', () => {
          attempt.streamed = true;
        });
        input.once('error', (err) => out.destroy(err));
        return input.pipe(out);
      });
    done();
  });

  async function submit(mail: OutgoingMail): Promise<SentInfo> {
    const release = await slots.acquire();
    try {
      await limiter?.acquire();
      return (await transport.sendMail(mail)) as SentInfo;
    } finally {
      release();
    }
  }

  const hasReply = (err: unknown): boolean => {
    const r = (err as NodemailerError | undefined)?.response;
    return typeof r === 'string' && /^\s*\d{3}/.test(r);
  };

  function outcomeUnknown(cause: SmtpOAuthError, messageId: string): SmtpOAuthError {
    return new SmtpOAuthError(
      'SMTP_OUTCOME_UNKNOWN',
      `The message was sent but the server's answer to it never arrived (${cause.code}); it may or may not have been delivered`,
      {
        cause,
        details: {
          ...(messageId ? { messageId } : {}),
          connectionError: cause.code,
          ...(typeof cause.details.errno === 'string' ? { errno: cause.details.errno } : {}),
        },
      },
    );
  }

  /** When the last attempt failed differently after an earlier one left the outcome open. */
  function decisive(unknown: SmtpOAuthError | undefined, last: SmtpOAuthError): SmtpOAuthError {
    if (!unknown || unknown === last) return last;
    return new SmtpOAuthError('SMTP_OUTCOME_UNKNOWN', unknown.message, {
      cause: unknown.cause,
      details: { ...unknown.details, lastAttempt: { code: last.code, message: last.message } },
    });
  }

  function concurrencyExhausted(last: SmtpOAuthError): SmtpOAuthError {
    const hint = `The server still refused a connection for ${config.user} after the mailer lowered itself to ${congestion.limit} connection(s) (configured: ${maxConnections}). Other clients or instances use the same mailbox: route them through one sender (the server's outbox), or send from several mailboxes.`;
    return new SmtpOAuthError(last.code, last.message, { cause: last.cause, details: last.details, hint });
  }

  async function deliver(mail: OutgoingMail, fromAddress: string, messageId: string): Promise<SendResult> {
    const attempt: Attempt = { streamed: false };
    (mail as { [TRACK]?: Attempt })[TRACK] = attempt;
    let counted = 0;
    let congested = 0;
    let tokenRenewed = false;
    let unknown: SmtpOAuthError | undefined;
    let info: SentInfo | undefined;
    for (;;) {
      attempt.streamed = false;
      try {
        // A token failure surfaces as its own typed error, before any SMTP connection; a transient
        // one (503, 429, a reset) is retried like any other, no sooner than the provider's throttle
        // allows (its Retry-After / backoff step arrives as details.retryAfterSeconds).
        if (tokens) await tokens.getToken();
        info = await submit(mail);
        congestion.success();
        break;
      } catch (raw) {
        let err = mapError(raw, fromAddress);
        if (err.code === 'MAILER_CLOSED') throw err;
        // Everything was sent and no reply came: the server may have delivered it.
        if (attempt.streamed && !hasReply(raw) && !isTokenOrConfig(err)) {
          err = outcomeUnknown(err, messageId);
          unknown ??= err;
        }
        if (tokens && !tokenRenewed && tokenRefused(err)) {
          // Regression guard: a token the server refused must not be presented again.
          tokenRenewed = true;
          await renewToken(raw, err);
          continue;
        }
        if (err.code === 'SMTP_CONCURRENCY_LIMIT') {
          congestion.refused();
          if (congested < CONGESTION_RETRIES) {
            const delayMs = backoffDelay(congested++, CONGESTION_BACKOFF);
            log.log(
              'warn',
              `432: too many connections for the mailbox; now ${congestion.limit}, retrying in ${delayMs} ms`,
              {
                mailbox: config.user,
              },
            );
            await sleep(delayMs);
            continue;
          }
          throw decisive(unknown, concurrencyExhausted(err));
        }
        counted++;
        const retryable =
          err.code === 'SMTP_OUTCOME_UNKNOWN' ? options.retryUnknownOutcome === true : err.transient;
        const retryAfterMs =
          typeof err.details.retryAfterSeconds === 'number'
            ? err.details.retryAfterSeconds * 1000
            : undefined;
        if (
          !retryable ||
          counted >= policy.attempts ||
          (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs)
        )
          throw decisive(unknown, err);
        const delayMs = retryAfterMs ?? backoffDelay(counted - 1, policy);
        log.log('warn', `Send attempt ${counted} failed; retrying in ${delayMs} ms`, { code: err.code });
        await policy.sleep(delayMs);
      }
    }
    const result: SendResult = {
      // Ours first: for a raw message nodemailer reports an id it made up and never sent.
      messageId: messageId || (info.messageId ?? ''),
      accepted: (info.accepted ?? []).map(addressText),
      rejected: (info.rejected ?? []).map(addressText),
      response: info.response ?? '',
    };
    log.log('info', 'Message sent', {
      messageId: result.messageId,
      accepted: result.accepted.length,
      rejected: result.rejected.length,
    });
    return result;
  }

  let closed = false;
  const closedError = () =>
    new SmtpOAuthError('MAILER_CLOSED', 'The mailer is closed; create a new one to send again');

  return {
    async send(message) {
      if (closed) throw closedError();
      // S8: validation happens before any token or SMTP traffic.
      const normalized = validateMessage(message, {
        ...(options.maxMessageBytes ? { maxBytes: options.maxMessageBytes } : {}),
        ...(options.maxRecipients ? { maxRecipients: options.maxRecipients } : {}),
        ...(options.attachmentAccess ? { attachmentAccess: options.attachmentAccess } : {}),
      });
      const from = normalized.from ?? parseFrom(config.from ?? config.user);
      // One Message-ID and Date for every attempt: a retry after an ambiguous failure must carry the
      // same id, so a recipient (or the outbox) can recognise a duplicate.
      const messageId = normalized.messageId ?? createMessageId(from.address);
      const date = normalized.date ?? new Date(now());
      return deliver(toNodemailer(normalized, from, messageId, date), from.address, messageId);
    },

    async sendRaw(message) {
      if (closed) throw closedError();
      if (!message || !(message.raw instanceof Uint8Array))
        throw new SmtpOAuthError('MESSAGE_INVALID', 'raw must be the message bytes (Uint8Array)', {
          details: { field: 'raw' },
        });
      const env = message.envelope;
      const check = (value: unknown, field: string) => {
        if (typeof value !== 'string' || hasLineBreakOrNul(value) || (value !== '' && addressProblem(value)))
          throw new SmtpOAuthError('MESSAGE_INVALID', `${field} is not a valid envelope address`, {
            details: { field },
          });
      };
      check(env?.from, 'envelope.from');
      if (!Array.isArray(env?.to) || env.to.length === 0)
        throw new SmtpOAuthError('MESSAGE_INVALID', 'envelope.to needs at least one recipient', {
          details: { field: 'envelope.to' },
        });
      for (const [i, a] of env.to.entries()) check(a, `envelope.to[${i}]`);
      const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
      if (message.raw.byteLength > maxBytes)
        throw new SmtpOAuthError(
          'MESSAGE_TOO_LARGE',
          `message is ${message.raw.byteLength} bytes; the limit is ${maxBytes}`,
          { details: { field: 'raw', estimatedBytes: message.raw.byteLength, maxBytes } },
        );
      const raw = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
      return deliver(
        { raw, envelope: { from: env.from, to: [...env.to] } },
        env.from,
        message.messageId ?? '',
      );
    },

    async verify() {
      if (closed) throw closedError();
      if (tokens) await tokens.getToken();
      try {
        await transport.verify();
      } catch (err) {
        const mapped = mapError(err);
        if (tokens && tokenRefused(mapped)) {
          await renewToken(err, mapped);
          try {
            await transport.verify();
            return;
          } catch (retryErr) {
            throw mapError(retryErr);
          }
        }
        throw mapped;
      }
    },

    async close(options) {
      closed = true;
      // nodemailer's pool: `force` closes connections that are delivering too.
      (transport as unknown as { close(o?: { force?: boolean }): void }).close(
        options?.force ? { force: true } : undefined,
      );
    },
  };
}

/**
 * The name nodemailer knows our XOAUTH2 handler by. Not `XOAUTH2` itself: for that name nodemailer
 * (10.x) ignores a custom handler unless its own OAuth2 helper is configured, and falls back to the
 * first other mechanism the server offers (LOGIN). The handler sends `AUTH XOAUTH2` on the wire.
 */
const CUSTOM_XOAUTH2 = 'SASL-XOAUTH2';

/** Key under which a message's attempt record rides through nodemailer to the stream plugin. */
const TRACK = 'smtpOAuthAttempt';

/** Errors that are about the token or the configuration, never about a message in flight. */
function isTokenOrConfig(err: SmtpOAuthError): boolean {
  return /^(TOKEN_|CONFIG_|CREDENTIAL_|MAILER_)/.test(err.code);
}

/** Retries of one message refused with `432 4.3.2`, on top of the ordinary attempts. */
const CONGESTION_RETRIES = 8;
/**
 * Backoff after `432 4.3.2`: a connection slot of the mailbox frees up only when another session
 * ends, which takes seconds, so start at 5 s (2.5–5 s with jitter) and double up to 60 s.
 */
const CONGESTION_BACKOFF = { baseDelayMs: 5_000, maxDelayMs: 60_000, random: Math.random };
/** After this long without a 432, one more connection is allowed again (up to the configured count). */
const CONGESTION_RECOVERY_MS = 120_000;

/**
 * The connection count of one mailbox: lowered by one on each `432 4.3.2` (to at least 1), raised
 * by one after {@link CONGESTION_RECOVERY_MS} without a refusal (additive recovery, as TCP does
 * after loss), never above the configured maximum.
 */
function createCongestionControl(max: number, now: () => number, apply: (limit: number) => void) {
  let limit = max;
  let lastRefusal = 0;
  return {
    get limit() {
      return limit;
    },
    refused() {
      lastRefusal = now();
      if (limit > 1) {
        limit--;
        apply(limit);
      }
    },
    success() {
      if (limit < max && now() - lastRefusal >= CONGESTION_RECOVERY_MS) {
        limit++;
        lastRefusal = now();
        apply(limit);
      }
    },
  };
}
