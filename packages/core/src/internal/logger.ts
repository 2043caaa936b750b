import { format } from 'node:util';
import { redactSecrets } from '../errors/index.js';

/** Severity of a log line, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * Where the toolkit writes diagnostics. Every method is optional, so `console` or a thin wrapper
 * around pino/winston fits. Messages are already redacted: secrets, tokens and message bodies
 * never reach a logger.
 */
export interface Logger {
  trace?(message: string, fields?: Record<string, unknown>): void;
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that always exists and always redacts, whatever the caller passed. */
export interface SafeLogger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

// Email addresses are personal data: masked in every line unless the caller opts in.
const ADDRESS = /[^\s<>"'@,;:()[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const maskAddresses = (text: string) => text.replace(ADDRESS, '[address]');

function redactValue(value: unknown, depth = 0, mask = false): unknown {
  if (typeof value === 'string') return mask ? maskAddresses(redactSecrets(value)) : redactSecrets(value);
  if (value instanceof Error) return redactSecrets(`${value.name}: ${value.message}`);
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, mask));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Fields that carry credentials by name are dropped, not merely redacted.
    if (
      /^(?:access_?token|accesstoken|token|refresh_?token|id_?token|client_?secret|secret|password|pass|passphrase|assertion|client_?assertion|private_?key|keypem|authorization|body|content|html|text|raw|message)$/i.test(
        k,
      )
    )
      continue;
    out[k] = redactValue(v, depth + 1, mask);
  }
  return out;
}

const FALLBACK: Record<LogLevel, LogLevel[]> = {
  trace: ['trace', 'debug'],
  debug: ['debug'],
  info: ['info'],
  warn: ['warn', 'error'],
  error: ['error'],
};

/**
 * Wraps a user logger so every line goes through {@link redactSecrets}.
 *
 * @param options.addresses keep email addresses (recipients, the mailbox) in lines. @default false:
 *   they are personal data and are replaced by `[address]`.
 */
export function safeLogger(logger: Logger | undefined, options: { addresses?: boolean } = {}): SafeLogger {
  const mask = options.addresses !== true;
  return {
    log(level, message, fields) {
      if (!logger) return;
      const method = FALLBACK[level].map((l) => logger[l]).find((m) => typeof m === 'function');
      if (!method) return;
      try {
        method.call(
          logger,
          mask ? maskAddresses(redactSecrets(message)) : redactSecrets(message),
          fields ? (redactValue(fields, 0, mask) as Record<string, unknown>) : undefined,
        );
      } catch {
        // A failing logger must never break sending.
      }
    },
  };
}

/** nodemailer's bunyan-style logger interface. */
export interface NodemailerLogger {
  level(level: string): void;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  fatal(...args: unknown[]): void;
}

/**
 * Adapts {@link SafeLogger} to nodemailer's `(meta, format, ...args)` calls. nodemailer's own
 * `debug` flag (which logs the SMTP dialogue and the message body) stays off; what remains is
 * connection lifecycle, filtered through redaction. Message-stream lines are dropped outright.
 */
export function nodemailerLogger(log: SafeLogger): NodemailerLogger {
  const emit =
    (level: LogLevel) =>
    (...args: unknown[]) => {
      let meta: Record<string, unknown> | undefined;
      if (args[0] && typeof args[0] === 'object' && !(args[0] instanceof Error))
        meta = args.shift() as Record<string, unknown>;
      if (meta && (meta.tnx === 'message' || meta.tnx === 'client')) return;
      const [fmt, ...rest] = args;
      const text = typeof fmt === 'string' ? format(fmt, ...rest) : format(...args);
      const fields: Record<string, unknown> = { component: 'nodemailer' };
      if (meta) {
        for (const key of ['tnx', 'cid', 'action', 'messageId', 'method'] as const) {
          if (meta[key] !== undefined) fields[key] = meta[key];
        }
      }
      log.log(level, text, fields);
    };
  return {
    level: () => {},
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('debug'),
    warn: emit('warn'),
    error: emit('warn'),
    fatal: emit('error'),
  };
}
