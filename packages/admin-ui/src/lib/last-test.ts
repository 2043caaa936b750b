/** How the "Last test" of an entry reads: which check ran, what it covered, whether it is outdated. */
import type { LastTest } from '../api/client.js';

type Check = NonNullable<LastTest['check']>;

export const checkLabels: Record<Check, string> = {
  token: 'Test token',
  diagnose: 'Diagnostics',
  'send-test': 'Test email',
};

/** What each check exercises, in the admin's words. */
export const checkCoverage: Record<Check, string> = {
  token: 'a newly acquired token and its claims',
  diagnose: 'DNS, TCP, TLS, EHLO, token, claims, AUTH and the envelope',
  'send-test': 'a new connection, a newly acquired token, AUTH and a delivered message',
};

/**
 * A failure recorded before the entry was last saved says nothing certain about the entry as it is
 * now: the save may have fixed its cause. Such a result is shown as outdated until a check runs again.
 */
export function isOutdated(at: string, entryUpdatedAt: string): boolean {
  const t = Date.parse(at);
  const u = Date.parse(entryUpdatedAt);
  return !Number.isNaN(t) && !Number.isNaN(u) && u > t;
}

/** The message without its `check:` prefix (the label says which check it was). */
export function lastTestText(message: string | null): string {
  return (message ?? '').replace(/^(token|diagnose|send-test): /, '');
}
