import { SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import { hasLineBreakOrNul } from './address.js';

/**
 * An attachment, as in nodemailer's message `attachments` (https://nodemailer.com/message/attachments/).
 * Exactly one of `content`, `path` or `href`.
 */
export interface MailAttachment {
  /** The file name shown to the recipient. Required with `content` unless `cid` is set. */
  filename?: string;
  /** Text or bytes. A string is UTF-8 unless `encoding` says otherwise. */
  content?: string | Uint8Array;
  /**
   * How a string `content` is encoded; the attachment carries the decoded bytes (`'aGVsbG8='` with
   * `'base64'` delivers the 5 bytes `hello`). @default 'utf8'
   */
  encoding?: AttachmentEncoding;
  /**
   * A local file to attach. Refused unless the mailer allows file access
   * (`attachmentAccess: { files: true }`): message data must not read the file system by default.
   */
  path?: string;
  /**
   * An http(s) URL whose body is attached. Refused unless the mailer allows URL access
   * (`attachmentAccess: { urls: true }`): fetching URLs named by message data is an SSRF risk.
   */
  href?: string;
  /** MIME type, e.g. `application/pdf`. @default derived from `filename` */
  contentType?: string;
  /** `attachment`, or `inline` for content shown in the body. @default 'attachment' */
  contentDisposition?: 'attachment' | 'inline';
  /** Content-ID for inline images: the HTML refers to it as `<img src="cid:logo@example">`. */
  cid?: string;
}

/** Encodings of a string attachment `content` (Node.js Buffer encodings). */
export type AttachmentEncoding =
  | 'base64'
  | 'base64url'
  | 'hex'
  | 'utf8'
  | 'utf-8'
  | 'latin1'
  | 'binary'
  | 'ascii';

/**
 * Which attachment sources besides inline `content` are allowed. Both are off by default; the
 * server never turns them on.
 */
export interface AttachmentAccess {
  /** Allow `path` (reads the local file system). @default false */
  files?: boolean;
  /** Allow `href` (fetches http(s) URLs). @default false */
  urls?: boolean;
}

/** A validated attachment: `content` decoded to bytes when an encoding was given. */
export interface NormalizedAttachment {
  filename?: string;
  content?: string | Uint8Array;
  path?: string;
  href?: string;
  contentType?: string;
  contentDisposition?: 'attachment' | 'inline';
  cid?: string;
}

const ENCODINGS = new Set(['base64', 'base64url', 'hex', 'utf8', 'utf-8', 'latin1', 'binary', 'ascii']);
const FIELDS = new Set([
  'filename',
  'content',
  'encoding',
  'path',
  'href',
  'contentType',
  'contentDisposition',
  'cid',
]);
// nodemailer fields this mailer does not pass on, with what to do instead.
const UNSUPPORTED: Record<string, string> = {
  raw: 'Pass the part as content with contentType instead.',
  headers: 'Per-attachment headers are not supported; use contentType, contentDisposition and cid.',
  httpHeaders: 'Fetch the file yourself and pass it as content.',
  contentTransferEncoding: 'The transfer encoding is chosen by the mailer.',
};
const MIME_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;
// RFC 2392 content-id without the angle brackets: printable ASCII, no space, quotes or brackets.
const CID = /^[\x21\x23-\x3b\x3d\x3f-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const invalid = (field: string, message: string, hint?: string) =>
  new SmtpOAuthError('MESSAGE_INVALID', `${field} ${message}`, { details: { field }, hint });
const injection = (field: string) =>
  new SmtpOAuthError('MESSAGE_HEADER_INJECTION', `${field} contains a line break (CR/LF) or NUL character`, {
    details: { field },
    hint: `Remove CR, LF and NUL from ${field}; header fields must be a single line.`,
  });

function decode(content: string, encoding: string, field: string): Uint8Array | string {
  switch (encoding) {
    case 'utf8':
    case 'utf-8':
      return content;
    case 'base64': {
      // Line breaks are common in pasted base64 (76-column MIME lines).
      const compact = content.replace(/\s+/g, '');
      if (!BASE64.test(compact))
        throw invalid(
          `${field}.content`,
          'is not valid base64 (encoding: base64)',
          'Pass the base64 text of the file, or drop encoding to send the string as UTF-8 text.',
        );
      return new Uint8Array(Buffer.from(compact, 'base64'));
    }
    case 'base64url':
      if (!BASE64URL.test(content))
        throw invalid(`${field}.content`, 'is not valid base64url (encoding: base64url)');
      return new Uint8Array(Buffer.from(content, 'base64url'));
    case 'hex':
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(content))
        throw invalid(
          `${field}.content`,
          'is not valid hex (encoding: hex): an even number of 0-9a-f digits',
        );
      return new Uint8Array(Buffer.from(content, 'hex'));
    default:
      return new Uint8Array(Buffer.from(content, encoding as BufferEncoding));
  }
}

/** Validates one attachment (`field` is e.g. `attachments[0]`) and returns it with `content` decoded. */
export function validateAttachment(
  input: unknown,
  field: string,
  access: AttachmentAccess,
): NormalizedAttachment {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw invalid(field, 'must be an object { filename, content, contentType? }');
  const a = input as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (FIELDS.has(key)) continue;
    throw invalid(
      `${field}.${key}`,
      'is not a supported attachment field',
      UNSUPPORTED[key] ?? `Supported: ${[...FIELDS].join(', ')}.`,
    );
  }
  const out: NormalizedAttachment = {};
  const sources = (['content', 'path', 'href'] as const).filter((k) => a[k] !== undefined);
  if (sources.length !== 1)
    throw invalid(
      field,
      sources.length === 0
        ? 'needs content (or path/href)'
        : `has both ${sources.join(' and ')}; give exactly one`,
    );

  for (const key of ['filename', 'contentType', 'cid', 'path', 'href'] as const) {
    const v = a[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw invalid(`${field}.${key}`, 'must be a string');
    if (hasLineBreakOrNul(v)) throw injection(`${field}.${key}`);
  }
  if (a.filename !== undefined) {
    if (a.filename === '') throw invalid(`${field}.filename`, 'is required');
    out.filename = a.filename as string;
  } else if (a.content !== undefined && a.cid === undefined) {
    throw invalid(`${field}.filename`, 'is required');
  }
  if (a.contentType !== undefined) {
    if (!MIME_TYPE.test(a.contentType as string))
      throw invalid(`${field}.contentType`, 'must be a MIME type such as application/pdf');
    out.contentType = a.contentType as string;
  }
  if (a.cid !== undefined) {
    const cid = (a.cid as string).replace(/^<(.*)>$/, '$1');
    if (!CID.test(cid))
      throw invalid(
        `${field}.cid`,
        'must be a Content-ID such as logo@example.com (printable ASCII, no spaces or quotes)',
      );
    out.cid = cid;
  }
  if (a.contentDisposition !== undefined) {
    if (a.contentDisposition !== 'attachment' && a.contentDisposition !== 'inline')
      throw invalid(`${field}.contentDisposition`, "must be 'attachment' or 'inline'");
    out.contentDisposition = a.contentDisposition;
  }

  if (a.path !== undefined) {
    if (!access.files)
      throw invalid(
        `${field}.path`,
        'reads a local file, which this mailer does not allow',
        'Pass the bytes as content, or create the mailer with attachmentAccess: { files: true } (never for untrusted messages).',
      );
    if (a.path === '') throw invalid(`${field}.path`, 'is empty');
    out.path = a.path as string;
  }
  if (a.href !== undefined) {
    if (!access.urls)
      throw invalid(
        `${field}.href`,
        'fetches a URL, which this mailer does not allow',
        'Fetch the file yourself and pass it as content, or create the mailer with attachmentAccess: { urls: true } (never for untrusted messages).',
      );
    let url: URL | undefined;
    try {
      url = new URL(a.href as string);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw invalid(`${field}.href`, 'must be an http or https URL');
    out.href = a.href as string;
  }

  if (a.encoding !== undefined) {
    if (typeof a.encoding !== 'string' || !ENCODINGS.has(a.encoding))
      throw invalid(`${field}.encoding`, `must be one of ${[...ENCODINGS].join(', ')}`);
    if (typeof a.content !== 'string')
      throw invalid(
        `${field}.encoding`,
        'applies only to string content',
        'Drop encoding for Uint8Array content.',
      );
  }
  if (a.content !== undefined) {
    if (typeof a.content === 'string')
      out.content = decode(a.content, (a.encoding as string | undefined) ?? 'utf8', field);
    else if (a.content instanceof Uint8Array) out.content = a.content;
    else throw invalid(`${field}.content`, 'must be a string or Uint8Array');
  }
  return out;
}
