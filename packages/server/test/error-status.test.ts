// The HTTP status of every core error comes from one table keyed by core's error category.
import { catalogEntry, errorCatalog, errorCategories, SmtpOAuthError } from '@org/core';
import { describe, expect, it } from 'vitest';
import { fromCoreError, httpStatusByCategory } from '../src/http/errors.js';

describe('HTTP status by category', () => {
  it('the table covers every category, and every catalog code answers by its category', () => {
    expect(Object.keys(httpStatusByCategory).sort()).toEqual([...errorCategories].sort());
    for (const e of errorCatalog)
      expect(fromCoreError(new SmtpOAuthError(e.code, 'x')).status, e.code).toBe(
        httpStatusByCategory[e.category],
      );
  });

  // Regression: the CLI exited 5 (permanent delivery failure) for MESSAGE_TOO_LARGE while this API
  // answered 413 (the caller's message); both now follow the catalog's category.
  it('MESSAGE_TOO_LARGE is the caller’s message: 413, a 4xx like MESSAGE_INVALID', () => {
    expect(catalogEntry('MESSAGE_TOO_LARGE').category).toBe('message-size');
    expect(fromCoreError(new SmtpOAuthError('MESSAGE_TOO_LARGE', 'too large')).status).toBe(413);
    expect(fromCoreError(new SmtpOAuthError('MESSAGE_INVALID', 'bad')).status).toBe(400);
  });
});
