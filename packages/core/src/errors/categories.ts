import { errorCatalog } from './catalog.js';

/**
 * Error categories: what a front end does about a failure. Each catalog entry names one; the CLI's
 * exit codes and the server's HTTP statuses are one table each keyed by category, so every front
 * end answers the same code the same way.
 */
export const errorCategories = [
  /** The configuration (email-server entry) is invalid or unreadable: the operator fixes a field. */
  'config',
  /** The entry's stored credential can no longer be used (expired certificate): the operator renews it. */
  'credential',
  /** The caller's message is invalid (address, header): fix the message. Nothing was sent. */
  'message',
  /** The caller's message exceeds the size limit: shrink it. Nothing was sent. */
  'message-size',
  /** Authentication or authorization refused (token endpoint, 535, mailbox or SendAs permission). */
  'auth',
  /** A retry with backoff may succeed without anyone changing anything (network, throttling, 4xx). */
  'transient',
  /** Refused for good (5xx rejection, TLS): retrying will not help. */
  'permanent',
  /** The message was sent but the server's answer never arrived: it may have been delivered. */
  'outcome-unknown',
] as const;

/** What a front end does about a failure; see {@link errorCategories}. */
export type ErrorCategory = (typeof errorCategories)[number];

const codeCategory = new Map<string, ErrorCategory>(errorCatalog.map((e) => [e.code, e.category]));

/**
 * The category of one raised error: its catalog entry's, except that an `auth` or `permanent` code
 * raised with `transient: true` (a 4xx reply, e.g. `454 4.7.0`) is `transient`, and a `transient`
 * code raised with `transient: false` is `permanent` — the instance's flag comes from the reply the
 * server actually sent (S9).
 *
 * @param error - an `SmtpOAuthError`, its JSON (`{ code, transient }`), or anything else.
 * @returns the category, or `undefined` when `error.code` is not a catalog code.
 */
export function errorCategory(error: unknown): ErrorCategory | undefined {
  const e = error as { code?: unknown; transient?: unknown } | null | undefined;
  const category = typeof e?.code === 'string' ? codeCategory.get(e.code) : undefined;
  if (category === undefined || typeof e?.transient !== 'boolean') return category;
  if (e.transient && (category === 'auth' || category === 'permanent')) return 'transient';
  if (!e.transient && category === 'transient') return 'permanent';
  return category;
}
