import { isIP } from 'node:net';
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
import {
  classifyTransient,
  defaultSleep,
  type RetryOptions,
  resolveRetry,
  withRetry,
} from '../internal/retry.js';
import {
  addressProblem,
  createMessageId,
  DEFAULT_MAX_MESSAGE_BYTES,
  hasLineBreakOrNul,
  type MailAddress,
  type MailMessage,
  type NormalizedMessage,
  validateMessage,
} from '../message/index.js';
import { createTokenCache, type TokenCache } from '../tokens/cache.js';
import { type CreateTokenProviderOptions, createTokenProvider } from '../tokens/create.js';
import type { TokenProvider } from '../tokens/types.js';

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
   * 5xx is never retried. `false` disables.
   * @default { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30000 }
   */
  retry?: RetryOptions | false;
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
  /** Connects, negotiates TLS and authenticates, without sending. */
  verify(): Promise<void>;
  /** Closes idle connections; sends in progress finish first. */
  close(): Promise<void>;
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
 * - On `535` to XOAUTH2 the token is invalidated, a fresh one fetched, and the message retried
 *   once; a second `535` fails.
 * - Exchange's per-mailbox limits are respected by default for Microsoft hosts.
 *
 * @example
 * const mailer = createMailer(parseConfig(json).config);
 * await mailer.send({ to: 'someone@example.com', subject: 'Hi', text: 'Hello' });
 * await mailer.close();
 */
export function createMailer(config: EmailServerConfig, options: MailerOptions = {}): Mailer {
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
  // With a rate limit, a message is handed to the pool only when a connection can take it, so the
  // permit is spent when the message actually goes out — not while it waits in nodemailer's queue,
  // which would let a burst reach the server later inside one window (Exchange then delays it).
  const slots = limiter ? createSemaphore(maxConnections) : undefined;
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

  // The token a connection was last given: what a 535 refers to.
  let lastProvided: string | undefined;
  // nodemailer overwrites the `code` of an error passed back from provisionCallback; keep ours.
  let lastProvisionError: unknown;

  const authOption =
    auth.type === 'oauth2'
      ? {
          type: 'OAuth2' as const,
          user: config.user,
          provisionCallback: (
            _user: string,
            renew: boolean,
            callback: (err: Error | null, accessToken?: string, expires?: number) => void,
          ) => {
            // `renew` is nodemailer's own retry after a 334 challenge (Gmail style). The one
            // fresh-token retry is done by send() for every server alike, so the current token is
            // handed out again here instead of fetching a second fresh one.
            void renew;
            const cache = tokens as TokenCache;
            cache.getToken().then(
              (t) => {
                lastProvided = t.accessToken;
                lastProvisionError = undefined;
                // 0: nodemailer must not judge expiry on its own clock; the cache does.
                callback(null, t.accessToken, 0);
              },
              (err: unknown) => {
                lastProvisionError = err;
                callback(new Error('XOAUTH2 access token unavailable'));
              },
            );
          },
        }
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
    ...(auth.type === 'oauth2' ? { authMethod: 'XOAUTH2' } : {}),
    maxConnections,
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
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  function mapError(err: unknown, from?: string): SmtpOAuthError {
    if (isSmtpOAuthError(err)) return err;
    const e = (err ?? {}) as NodemailerError;
    const errCtx = from ? { ...ctx, from } : ctx;
    if (e.code === 'EAUTH' && !e.response && lastProvisionError !== undefined) {
      const original = lastProvisionError;
      if (isSmtpOAuthError(original)) return original;
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
    if (typeof e.response === 'string' && /^\d{3}/.test(e.response.trim())) {
      return withCause(
        errorFromSmtpReply(
          {
            response: e.response,
            ...(e.responseCode ? { code: e.responseCode } : {}),
            ...(e.command ? { command: e.command } : {}),
          },
          errCtx,
        ),
        err,
      );
    }
    const net = errorFromNetwork(err, errCtx);
    if (net) return net;
    const message = err instanceof Error ? err.message : String(err);
    if (/pool was closed/i.test(message))
      return new SmtpOAuthError('NETWORK_CONNECT', 'The mailer was closed before the message was sent', {
        cause: err,
        transient: false,
      });
    return new SmtpOAuthError('NETWORK_CONNECT', `Sending failed: ${message}`, { cause: err });
  }

  // A 535 means "this token was not accepted" — except 5.7.139 (SMTP AUTH disabled, security
  // defaults, basic auth off), a tenant setting no fresh token can change.
  const isAuthRejected = (err: unknown): boolean => {
    const e = err as NodemailerError;
    const reply = e?.response ?? '';
    return (
      e?.code === 'EAUTH' && (e.responseCode === 535 || /^535\b/.test(reply)) && !/\b5\.7\.139\b/.test(reply)
    );
  };

  function toNodemailer(m: NormalizedMessage, from: MailAddress, messageId: string, date: Date) {
    return {
      from,
      messageId,
      date,
      ...(m.to.length ? { to: m.to } : {}),
      ...(m.cc.length ? { cc: m.cc } : {}),
      ...(m.bcc.length ? { bcc: m.bcc } : {}),
      ...(m.replyTo.length ? { replyTo: m.replyTo } : {}),
      ...(m.subject !== undefined ? { subject: m.subject } : {}),
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.html !== undefined ? { html: m.html } : {}),
      ...(m.attachments.length
        ? {
            attachments: m.attachments.map((a) => ({
              filename: a.filename,
              content: typeof a.content === 'string' ? a.content : Buffer.from(a.content),
              ...(a.contentType ? { contentType: a.contentType } : {}),
            })),
          }
        : {}),
      ...(Object.keys(m.headers).length ? { headers: m.headers } : {}),
    };
  }

  type OutgoingMail =
    | ReturnType<typeof toNodemailer>
    | { raw: Buffer; envelope: { from: string; to: string[] }; messageId?: string };

  async function submit(mail: OutgoingMail): Promise<SentInfo> {
    const release = await slots?.acquire();
    try {
      await limiter?.acquire();
      return (await transport.sendMail(mail)) as SentInfo;
    } finally {
      release?.();
    }
  }

  async function deliver(mail: OutgoingMail, fromAddress: string, messageId: string): Promise<SendResult> {
    // A token failure surfaces as its own typed error, before any SMTP connection.
    if (tokens) await tokens.getToken();
    let freshTokenTried = false;
    const info = await withRetry(
      async () => {
        try {
          return await submit(mail);
        } catch (err) {
          if (!tokens || freshTokenTried || !isAuthRejected(err)) throw mapError(err, fromAddress);
          // Regression guard: a token Exchange refused must not be reused — refetch, retry once.
          freshTokenTried = true;
          log.log('info', 'XOAUTH2 rejected (535); retrying once with a freshly fetched token', {
            mailbox: config.user,
          });
          tokens.invalidate(lastProvided);
          await tokens.getToken();
          try {
            return await submit(mail);
          } catch (retryErr) {
            throw mapError(retryErr, fromAddress);
          }
        }
      },
      policy,
      classifyTransient,
      ({ attempt, delayMs, error }) =>
        log.log('warn', `Send attempt ${attempt} failed; retrying in ${delayMs} ms`, {
          code: isSmtpOAuthError(error) ? error.code : undefined,
        }),
    );
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

  return {
    async send(message) {
      if (closed) throw new SmtpOAuthError('NETWORK_CONNECT', 'The mailer is closed', { transient: false });
      // S8: validation happens before any token or SMTP traffic.
      const normalized = validateMessage(message, {
        ...(options.maxMessageBytes ? { maxBytes: options.maxMessageBytes } : {}),
        ...(options.maxRecipients ? { maxRecipients: options.maxRecipients } : {}),
      });
      const from = normalized.from ?? parseFrom(config.from ?? config.user);
      // One Message-ID and Date for every attempt: a retry after an ambiguous failure must carry the
      // same id, so a recipient (or the outbox) can recognise a duplicate.
      const messageId = normalized.messageId ?? createMessageId(from.address);
      const date = normalized.date ?? new Date(now());
      return deliver(toNodemailer(normalized, from, messageId, date), from.address, messageId);
    },

    async sendRaw(message) {
      if (closed) throw new SmtpOAuthError('NETWORK_CONNECT', 'The mailer is closed', { transient: false });
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
      if (tokens) await tokens.getToken();
      try {
        await transport.verify();
      } catch (err) {
        if (tokens && isAuthRejected(err)) {
          tokens.invalidate(lastProvided);
          await tokens.getToken();
          try {
            await transport.verify();
            return;
          } catch (retryErr) {
            throw mapError(retryErr);
          }
        }
        throw mapError(err);
      }
    },

    async close() {
      closed = true;
      transport.close();
    },
  };
}
