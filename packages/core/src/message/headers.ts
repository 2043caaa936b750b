/**
 * Which custom headers a message may carry. An allow-list, not a deny-list: a header that is not
 * named here could change addressing (Resent-*, Return-Path), MIME structure (Content-*),
 * authentication (DKIM-Signature, ARC-*) or what the mailer fixes itself (Message-ID, Date).
 */

/** Header names (lower case) allowed besides the `X-` and `List-` families. */
const ALLOWED = new Set([
  'in-reply-to',
  'references',
  // RFC 3834 auto-replies; RFC 2076 / Outlook conventions for bulk mail, priority and threading.
  'auto-submitted',
  'precedence',
  'importance',
  'priority',
  'sensitivity',
  'keywords',
  'comments',
  'organization',
  'thread-topic',
  'thread-index',
  'content-language',
  'feedback-id',
  'archived-at',
  'require-recipient-valid-since',
]);

/** Headers with a message field of their own: the field is validated and wins over a header. */
const FIELD_FOR_HEADER: Record<string, string> = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  'reply-to': 'replyTo',
  subject: 'subject',
  'message-id': 'messageId',
  date: 'date',
};

/** Allowed families: extension headers (`X-Mailer`, `X-Priority`) and RFC 2369/8058 list headers. */
const FAMILY = /^(?:x|list)-/i;

/** Printable ASCII without colon or space (RFC 5322 field name). */
export const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Why `name` cannot be a custom header, or `undefined` when it can.
 * @returns the reason and, when a message field sets it instead, that field's name.
 */
export function headerRefusal(name: string): { reason: string; field?: string } | undefined {
  const lower = name.toLowerCase();
  const field = FIELD_FOR_HEADER[lower];
  if (field) return { reason: 'is set through its own message field', field };
  if (FAMILY.test(lower) || ALLOWED.has(lower)) return undefined;
  return {
    reason:
      'is not an allowed custom header (allowed: X-*, List-*, In-Reply-To, References, Auto-Submitted, Precedence, Importance, Priority, Sensitivity, Keywords, Comments, Organization, Thread-Topic, Thread-Index, Content-Language, Feedback-ID, Archived-At)',
  };
}
