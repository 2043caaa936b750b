import { describe, expect, it } from 'vitest';
import * as api from '../src/api/index.js';
import * as config from '../src/config/index.js';
import { isSmtpOAuthError } from '../src/errors/index.js';
import * as core from '../src/index.js';
import * as setup from '../src/setup/index.js';

// What plain-JavaScript callers pass by mistake: nothing, the wrong type, an empty object, a config
// without `auth`, an oauth2 config without a credential.
const BAD_INPUTS: unknown[] = [
  undefined,
  null,
  42,
  'text',
  [],
  {},
  { name: 'x', host: 'smtp.example.com', user: 'a@example.com' },
  { name: 'x', host: 'smtp.example.com', user: 'a@example.com', auth: { type: 'oauth2' } },
];

const functions = Object.entries({ ...api, ...config, ...setup, ...core }).filter(
  // Error classes are constructors, not functions to call.
  ([name, value]) => typeof value === 'function' && !/Error$/.test(name),
) as [string, (...args: unknown[]) => unknown][];

async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    const result = fn();
    if (result && typeof (result as Promise<unknown>).then === 'function') await result;
    const closable = result as { close?: () => unknown } | undefined;
    if (closable && typeof closable.close === 'function') await closable.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

// Regression: a config from plain JS without `auth` made createMailer throw a raw TypeError.
describe('every public function fails one way: a typed SmtpOAuthError, never a TypeError', () => {
  it('covers the public functions', () => {
    expect(functions.length).toBeGreaterThan(25);
  });

  it.each(functions)('%s', async (_name, fn) => {
    for (const input of BAD_INPUTS) {
      for (const args of [[input], [input, 42]]) {
        const err = await outcome(() => fn(...args));
        if (err !== undefined)
          expect(isSmtpOAuthError(err), `${_name}(${JSON.stringify(args)}) threw ${String(err)}`).toBe(true);
      }
    }
  });

  it('createMailer without auth → CONFIG_INVALID naming auth', () => {
    try {
      core.createMailer({ name: 'x', host: 'smtp.example.com', user: 'a@example.com' } as never);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'auth' }] });
    }
  });
});
