/** The store's `waitForMessage`: resolves with the first stored message (past or future) that matches. */
import { SmtpServerError } from './errors.js';
import type { ParsedStoredMessage, StoredMessage } from './store.js';

/**
 * Waits for a message matching `predicate`, checking the ones already stored first, then each new
 * one as `listeners` report it. Messages are parsed one after another, in arrival order.
 *
 * @param messages - the store so far (read, never changed).
 * @param listeners - the store's listeners; the wait adds itself and removes itself when it ends.
 * @throws SmtpServerError `SMTP_WAIT_TIMEOUT` after `timeoutMs` (default 5000 ms) without a match;
 *   a throwing predicate or an unparsable message rejects with that error instead of hanging.
 */
export function waitForMessage(
  messages: readonly StoredMessage[],
  listeners: Set<(m: StoredMessage) => void>,
  predicate: (m: ParsedStoredMessage) => boolean = () => true,
  { timeoutMs = 5000 }: { timeoutMs?: number } = {},
): Promise<ParsedStoredMessage> {
  return new Promise<ParsedStoredMessage>((resolve, reject) => {
    let settled = false;
    let chain = Promise.resolve();
    const check = (m: StoredMessage) => {
      chain = chain.then(async () => {
        if (settled) return;
        try {
          await m.parse();
          if (!settled && predicate(m as ParsedStoredMessage)) {
            settled = true;
            cleanup();
            resolve(m as ParsedStoredMessage);
          }
        } catch (err) {
          // A throwing predicate (or an unparsable message) ends the wait instead of hanging it.
          settled = true;
          cleanup();
          reject(err);
        }
      });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(
        new SmtpServerError(
          'SMTP_WAIT_TIMEOUT',
          `no matching message within ${timeoutMs} ms (${messages.length} stored)`,
          'Check messages() and authAttempts(): the client may have been refused, or the predicate never matches.',
        ),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      listeners.delete(check);
    };
    for (const m of messages) check(m);
    listeners.add(check);
  });
}
