import { describe, expect, it } from 'vitest';
import {
  errorCatalog,
  errorCategories,
  errorCategory,
  errorCodes,
  errorFromSmtpReply,
  SmtpOAuthError,
} from '../src/errors/index.js';

describe('error categories (owned by the catalog)', () => {
  it('every catalog code has one of the categories, and every category is used', () => {
    expect(errorCatalog.map((e) => e.code)).toEqual([...errorCodes]);
    for (const e of errorCatalog) expect(errorCategories, e.code).toContain(e.category);
    expect(new Set(errorCatalog.map((e) => e.category))).toEqual(new Set(errorCategories));
  });

  it('an entry is transient exactly when its category is', () => {
    for (const e of errorCatalog) expect(e.category === 'transient', e.code).toBe(e.transient);
  });

  // Regression: the CLI answered MESSAGE_TOO_LARGE as a permanent delivery failure (exit 5) while the
  // server answered it as the caller's message (413); both now read this one category.
  it('MESSAGE_TOO_LARGE is the caller’s message (message-size), like MESSAGE_INVALID is (message)', () => {
    expect(errorCategory(new SmtpOAuthError('MESSAGE_TOO_LARGE', 'too large'))).toBe('message-size');
    expect(errorCategory(new SmtpOAuthError('MESSAGE_INVALID', 'bad'))).toBe('message');
    expect(
      errorCategory(
        errorFromSmtpReply({ response: '552 5.3.4 Message size exceeds fixed maximum message size' }),
      ),
    ).toBe('message-size');
  });

  it('the reply the server sent decides transience: a 4xx auth refusal is transient, 430 stays auth', () => {
    expect(
      errorCategory(errorFromSmtpReply({ response: '454 4.7.0 Temporary authentication failure' })),
    ).toBe('transient');
    const logon = errorFromSmtpReply({
      response:
        '430 4.2.0 STOREDRV.Submission.Exception:MailboxLogonFailedException; Failed to process message',
    });
    expect(logon.code).toBe('SMTP_MAILBOX_LOGON_FAILED');
    expect(errorCategory(logon)).toBe('auth');
    expect(errorCategory(errorFromSmtpReply({ response: '550 5.7.1 Message rejected' }))).toBe('permanent');
  });

  it('outside the catalog there is no category', () => {
    expect(errorCategory({ code: 'DATABASE_UNAVAILABLE', transient: true })).toBeUndefined();
    expect(errorCategory(new Error('x'))).toBeUndefined();
    expect(errorCategory(undefined)).toBeUndefined();
  });
});
