import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import { ServerError } from '../errors.js';

/** At least this many characters (NIST SP 800-63B allows any length ≥ 8; we ask for 12). */
export const MIN_PASSWORD_LENGTH = 12;

// zxcvbn-ts with its common dictionaries (leaked-password lists, names, keyboard patterns): a
// well-kept estimator instead of our own word list. Built once: the dictionaries take a moment.
let estimator: ZxcvbnFactory | undefined;
const zxcvbn = () =>
  (estimator ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs }));

// zxcvbn-ts feedback keys that mean "a listed password, or a small variation of one".
const COMMON_WARNINGS = new Set(['topTen', 'topHundred', 'common', 'commonPasswords', 'similarToCommon']);

/**
 * Why a new admin password is refused, or undefined when it is acceptable: at least
 * {@link MIN_PASSWORD_LENGTH} characters, not a known common password, and not guessable from
 * patterns (zxcvbn score ≥ 3 of 4).
 *
 * @param userInputs words the password must not lean on (the admin's email).
 */
export function passwordProblem(password: string, userInputs: readonly string[] = []): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH)
    return `must be at least ${MIN_PASSWORD_LENGTH} characters (a few unrelated words work well)`;
  const result = zxcvbn().check(password.slice(0, 256), [...userInputs]);
  const common = result.sequence.some(
    (m) =>
      m.pattern === 'dictionary' &&
      String(m.dictionaryName).startsWith('passwords') &&
      m.token.length === password.length,
  );
  if (common || COMMON_WARNINGS.has(String(result.feedback.warning)))
    return 'is a known common password (or close to one); choose another';
  if (result.score < 3)
    return 'is too easy to guess (repeats, keyboard patterns, dates or your email); add unrelated words';
  return undefined;
}

/**
 * Refuses a weak `ADMIN_PASSWORD` at first start (issue 13 §4: `ADMIN_PASSWORD=a` was accepted).
 *
 * @throws ServerError `ADMIN_PASSWORD_WEAK` naming the rule, never the value.
 */
export function assertConfiguredPassword(password: string | undefined, email: string): void {
  if (password === undefined) return;
  const problem = passwordProblem(password, [email, ...email.split(/[@.]/)]);
  if (problem)
    throw new ServerError('ADMIN_PASSWORD_WEAK', `ADMIN_PASSWORD ${problem}`, {
      hint: 'Set ADMIN_PASSWORD to a longer passphrase, or leave it unset to get a generated one-time password',
    });
}
