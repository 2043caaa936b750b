import type { SendMailOptions } from 'nodemailer';
import type { MailAddress } from './validate.js';
import type { NormalizedMessage } from './validate.js';

/**
 * The nodemailer message for a validated message: every field of {@link NormalizedMessage} is
 * mapped (a field added there and not here is a dropped field — the table-driven delivery test
 * catches it). `messageId` and `date` are fixed by the caller once, for every retry.
 */
export function toNodemailer(
  m: NormalizedMessage,
  from: MailAddress,
  messageId: string,
  date: Date,
): SendMailOptions {
  const out: SendMailOptions = { from, messageId, date };
  if (m.to.length) out.to = m.to;
  if (m.cc.length) out.cc = m.cc;
  if (m.bcc.length) out.bcc = m.bcc;
  if (m.replyTo.length) out.replyTo = m.replyTo;
  if (m.inReplyTo) out.inReplyTo = m.inReplyTo;
  if (m.references.length) out.references = m.references;
  if (m.subject !== undefined) out.subject = m.subject;
  if (m.text !== undefined) out.text = m.text;
  if (m.html !== undefined) out.html = m.html;
  if (m.priority) out.priority = m.priority;
  if (m.envelope) out.envelope = { from: m.envelope.from ?? from.address, to: m.envelope.to };
  if (m.attachments.length)
    out.attachments = m.attachments.map((a) => ({
      ...(a.filename !== undefined ? { filename: a.filename } : {}),
      ...(a.content !== undefined
        ? { content: typeof a.content === 'string' ? a.content : Buffer.from(a.content) }
        : {}),
      ...(a.path !== undefined ? { path: a.path } : {}),
      ...(a.href !== undefined ? { href: a.href } : {}),
      ...(a.contentType ? { contentType: a.contentType } : {}),
      ...(a.contentDisposition ? { contentDisposition: a.contentDisposition } : {}),
      ...(a.cid ? { cid: a.cid } : {}),
    }));
  if (Object.keys(m.headers).length) out.headers = m.headers;
  return out;
}
