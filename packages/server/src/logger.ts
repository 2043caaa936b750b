/**
 * Structured logger seam. Callers pass fields that are safe by construction (ids, codes, counts,
 * durations); request/response bodies, headers, secrets and tokens are never handed to it.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Whether a level is written at all; lets callers skip building lines nobody reads. @default all */
  enabled?(level: LogLevel): boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** JSON lines to a writable (stdout by default), one object per event. */
export function createJsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => Date } = {},
): Logger {
  const min = order[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return;
    write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    enabled: (level) => order[level] >= min,
  };
}

/**
 * The logger handed to core: only the levels that are written. Core (and nodemailer under it)
 * then neither formats nor redacts lines that would be dropped — per SMTP command, that adds up.
 * Returns undefined when nothing would be written.
 */
export function coreLogger(logger: Logger): Partial<Omit<Logger, 'enabled'>> | undefined {
  if (!logger.enabled) return logger;
  const out: Partial<Omit<Logger, 'enabled'>> = {};
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (logger.enabled(level)) out[level] = logger[level].bind(logger);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Discards everything (tests that do not inspect logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
