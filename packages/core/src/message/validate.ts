import { SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import { addressProblem, hasLineBreakOrNul } from './address.js';

/** An address with an optional display name. */
export interface MailAddress {
  name?: string;
  address: string;
}

/** One address: `"a@x"`, `"Name <a@x>"` or `{ name, address }`. */
export type AddressInput = string | MailAddress;

/** An attachment; `content` is text (UTF-8) or bytes. */
export interface MailAttachment {
  filename: string;
  content: string | Uint8Array;
  contentType?: string;
}

/** A message to send. `from` defaults to the entry's `from` or `user`. */
export interface MailMessage {
  from?: AddressInput;
  to?: AddressInput | AddressInput[];
  cc?: AddressInput | AddressInput[];
  bcc?: AddressInput | AddressInput[];
  replyTo?: AddressInput | AddressInput[];
  subject?: string;
  text?: string;
  html?: string;
  attachments?: MailAttachment[];
  /** Extra headers. Addressing headers (To, Cc, Bcc, From, …) must use the fields above. */
  headers?: Record<string, string>;
}

/** A validated message with every address list normalized. */
export interface NormalizedMessage {
  from?: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  subject?: string;
  text?: string;
  html?: string;
  attachments: { filename: string; content: string | Uint8Array; contentType?: string }[];
  headers: Record<string, string>;
  /** Estimated size on the wire in bytes, including transfer encoding. */
  estimatedBytes: number;
}

/** Options for {@link validateMessage}. */
export interface ValidateMessageOptions {
  /** Largest accepted encoded size. @default 157286400 (Exchange Online's SIZE, 150 MiB) */
  maxBytes?: number;
  /** Most recipients (to + cc + bcc). @default 500 (Exchange Online's per-message limit) */
  maxRecipients?: number;
}

/** Exchange Online's advertised SIZE: 150 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 157_286_400;
/** Exchange Online's recipients-per-message limit. */
export const DEFAULT_MAX_RECIPIENTS = 500;

// Addressing and MIME structure headers are set by the mailer; overriding them via `headers` would
// bypass the checks on the dedicated fields.
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'sender',
  'subject',
  'content-type',
  'content-transfer-encoding',
  'mime-version',
]);
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const encoder = new TextEncoder();

const injection = (field: string) =>
  new SmtpOAuthError('MESSAGE_HEADER_INJECTION', `${field} contains a line break (CR/LF) or NUL character`, {
    details: { field },
    hint: `Remove CR, LF and NUL from ${field}; header fields must be a single line.`,
  });
const invalid = (field: string, message: string, hint?: string) =>
  new SmtpOAuthError('MESSAGE_INVALID', `${field} ${message}`, { details: { field }, hint });

function parseAddress(input: unknown, field: string): MailAddress {
  let name: string | undefined;
  let address: string;
  if (typeof input === 'string') {
    if (hasLineBreakOrNul(input)) throw injection(field);
    const m = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(input);
    if (m) {
      name = m[1]?.replace(/^"(.*)"$/, '$1') || undefined;
      address = (m[2] ?? '').trim();
    } else address = input.trim();
  } else if (input && typeof input === 'object' && typeof (input as MailAddress).address === 'string') {
    const obj = input as MailAddress;
    if (obj.name !== undefined && typeof obj.name !== 'string')
      throw invalid(`${field}.name`, 'must be a string');
    if (obj.name !== undefined && hasLineBreakOrNul(obj.name)) throw injection(`${field}.name`);
    if (hasLineBreakOrNul(obj.address)) throw injection(`${field}.address`);
    name = obj.name || undefined;
    address = obj.address.trim();
  } else {
    throw invalid(field, 'must be an email address or { name, address }');
  }
  const problem = addressProblem(address);
  if (problem)
    throw invalid(
      field,
      `is not a valid email address: ${problem}`,
      address.includes(',')
        ? 'Pass several recipients as an array, not a comma-separated string.'
        : undefined,
    );
  return name === undefined ? { address } : { name, address };
}

function parseList(input: unknown, field: string): MailAddress[] {
  if (input === undefined || input === null) return [];
  if (Array.isArray(input)) return input.map((a, i) => parseAddress(a, `${field}[${i}]`));
  return [parseAddress(input, field)];
}

function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? encoder.encode(content).length : content.byteLength;
}

// base64 with 76-character lines: 4/3 plus CRLF every 76 characters.
const base64Size = (n: number) => {
  const chars = Math.ceil(n / 3) * 4;
  return chars + Math.ceil(chars / 76) * 2;
};

function bodySize(text: string): number {
  const bytes = encoder.encode(text).length;
  // ASCII bodies go as 7bit/8bit; others as quoted-printable or base64, whichever the mailer picks.
  return /^[\x00-\x7f]*$/.test(text) ? bytes : base64Size(bytes);
}

/**
 * Validates a message before any network I/O (S8) and normalizes its address lists.
 *
 * @throws SmtpOAuthError `MESSAGE_HEADER_INJECTION` (CR/LF/NUL in an address, display name, subject,
 * header or attachment name; `details.field` names it, e.g. `to[1]`, `headers.X-Foo`),
 * `MESSAGE_INVALID`, or `MESSAGE_TOO_LARGE`.
 */
export function validateMessage(
  message: MailMessage,
  options: ValidateMessageOptions = {},
): NormalizedMessage {
  if (!message || typeof message !== 'object') throw invalid('message', 'must be an object');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxRecipients = options.maxRecipients ?? DEFAULT_MAX_RECIPIENTS;

  const from = message.from === undefined ? undefined : parseAddress(message.from, 'from');
  const to = parseList(message.to, 'to');
  const cc = parseList(message.cc, 'cc');
  const bcc = parseList(message.bcc, 'bcc');
  const replyTo = parseList(message.replyTo, 'replyTo');
  const recipients = to.length + cc.length + bcc.length;
  if (recipients === 0)
    throw invalid('to', 'is empty: a message needs at least one recipient in to, cc or bcc');
  if (recipients > maxRecipients)
    throw invalid(
      'to',
      `has ${recipients} recipients in to, cc and bcc; at most ${maxRecipients} are allowed per message`,
      'Split the recipients over several messages.',
    );

  if (message.subject !== undefined) {
    if (typeof message.subject !== 'string') throw invalid('subject', 'must be a string');
    if (hasLineBreakOrNul(message.subject)) throw injection('subject');
  }
  for (const field of ['text', 'html'] as const) {
    const v = message[field];
    if (v !== undefined && typeof v !== 'string') throw invalid(field, 'must be a string');
  }

  // Messages often arrive as JSON (the server's send API): wrong container types are the caller's
  // error, not a TypeError deep in the loop below.
  if (
    message.headers !== undefined &&
    (typeof message.headers !== 'object' || message.headers === null || Array.isArray(message.headers))
  )
    throw invalid('headers', 'must be an object of header name to value');
  if (message.attachments !== undefined && !Array.isArray(message.attachments))
    throw invalid('attachments', 'must be an array of { filename, content, contentType? }');

  const headers: Record<string, string> = {};
  let headerBytes = 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const field = `headers.${name}`;
    if (hasLineBreakOrNul(name)) throw injection(field);
    if (!HEADER_NAME.test(name))
      throw invalid(field, 'is not a valid header name (printable ASCII, no colon or space)');
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw invalid(field, 'cannot be set through headers', `Use the message's own field for ${name}.`);
    if (typeof value !== 'string') throw invalid(field, 'must be a string');
    if (hasLineBreakOrNul(value)) throw injection(field);
    headers[name] = value;
    headerBytes += encoder.encode(`${name}: ${value}\r\n`).length;
  }

  const attachments: NormalizedMessage['attachments'] = [];
  let attachmentBytes = 0;
  for (const [i, a] of (message.attachments ?? []).entries()) {
    const field = `attachments[${i}]`;
    if (!a || typeof a !== 'object') throw invalid(field, 'must be { filename, content, contentType? }');
    if (typeof a.filename !== 'string' || a.filename.length === 0)
      throw invalid(`${field}.filename`, 'is required');
    if (hasLineBreakOrNul(a.filename)) throw injection(`${field}.filename`);
    if (typeof a.content !== 'string' && !(a.content instanceof Uint8Array))
      throw invalid(`${field}.content`, 'must be a string or Uint8Array');
    if (a.contentType !== undefined) {
      if (hasLineBreakOrNul(a.contentType)) throw injection(`${field}.contentType`);
      if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/.test(a.contentType))
        throw invalid(`${field}.contentType`, 'must be a MIME type such as application/pdf');
    }
    attachmentBytes += base64Size(byteLength(a.content)) + 200;
    attachments.push(
      a.contentType === undefined
        ? { filename: a.filename, content: a.content }
        : { filename: a.filename, content: a.content, contentType: a.contentType },
    );
  }

  const addressBytes = [from, ...to, ...cc, ...replyTo]
    .filter((a): a is MailAddress => a !== undefined)
    .reduce((n, a) => n + encoder.encode(`${a.name ?? ''} <${a.address}>, `).length, 0);
  const estimatedBytes =
    1024 +
    headerBytes +
    addressBytes +
    (message.subject ? base64Size(encoder.encode(message.subject).length) : 0) +
    (message.text ? bodySize(message.text) + 200 : 0) +
    (message.html ? bodySize(message.html) + 200 : 0) +
    attachmentBytes;
  if (estimatedBytes > maxBytes)
    throw new SmtpOAuthError(
      'MESSAGE_TOO_LARGE',
      `message is about ${estimatedBytes} bytes once encoded; the limit is ${maxBytes}`,
      { details: { field: 'attachments', estimatedBytes, maxBytes } },
    );

  const out: NormalizedMessage = { to, cc, bcc, replyTo, attachments, headers, estimatedBytes };
  if (from) out.from = from;
  if (message.subject !== undefined) out.subject = message.subject;
  if (message.text !== undefined) out.text = message.text;
  if (message.html !== undefined) out.html = message.html;
  return out;
}
