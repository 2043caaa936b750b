/** What the SMTP server records: messages (parsed lazily, off the hot path) and AUTH attempts. */
import type { AuthRefusal, SmtpIdentity } from './authorizer.js';

/** One line of a session as seen on the wire (AUTH credentials replaced by `<redacted>`). */
export interface TranscriptEntry {
  /** Clock time, ms since the epoch. */
  at: number;
  from: 'client' | 'server';
  /** The line without CRLF; a multi-line reply keeps its inner CRLFs. */
  line: string;
}

/** The message as mailparser reads it. */
export interface ParsedMessage {
  /** Header names lower-cased; values as mailparser decodes them (strings for unstructured headers). */
  headers: Record<string, unknown>;
  subject?: string;
  from: { address: string; name: string }[];
  to: { address: string; name: string }[];
  cc: { address: string; name: string }[];
  messageId?: string;
  date?: Date;
  text?: string;
  html?: string;
  attachments: { filename?: string; contentType: string; size: number; content: Buffer }[];
}

export interface StoredMessage {
  id: string;
  /** When the server accepted it (end of DATA), on the server's clock. */
  receivedAt: Date;
  envelope: { mailFrom: string; rcptTo: string[] };
  /** Who sent it, as the authorizer established at AUTH. */
  identity: SmtpIdentity;
  /** The message exactly as received, dot-unstuffed, ending with CRLF. */
  raw: Buffer;
  /** The Message-ID from the header (or the one the server assigned), with angle brackets. */
  messageId: string;
  /** How long (clock ms) the end-of-DATA reply was held by the per-minute rate limit. */
  throttledMs: number;
  /** The session up to this message's final reply: greeting, EHLO, STARTTLS, AUTH, then this transaction. */
  transcript: TranscriptEntry[];
  /** Parses `raw` with mailparser (memoized); afterwards `parsed` is set too. */
  parse(): Promise<ParsedMessage>;
  /** Set once `parse()` (or `waitForMessage`) has run. */
  parsed?: ParsedMessage;
}

/** A message whose parse has completed; what `waitForMessage` predicates receive. */
export type ParsedStoredMessage = StoredMessage & { parsed: ParsedMessage };

/** One AUTH attempt. Holds no token, password or blob. */
export interface AuthAttempt {
  at: Date;
  mechanism: string;
  /** The `user=` / `a=` / LOGIN username, when the client sent one. */
  mailbox?: string;
  /** What the authorizer decoded from the token (complete on success). */
  identity?: Partial<SmtpIdentity>;
  ok: boolean;
  /** The final reply the client got. */
  reply: string;
  /** Why it was accepted or refused. */
  reason: string;
  /** The refusal category, when the authorizer refused. */
  refusal?: AuthRefusal;
}

type MailparserAddress = { value?: { address?: string; name?: string }[] } | undefined;

function addresses(field: unknown): { address: string; name: string }[] {
  const list = (Array.isArray(field) ? field : [field]) as MailparserAddress[];
  const out: { address: string; name: string }[] = [];
  for (const a of list) {
    for (const v of a?.value ?? []) out.push({ address: v.address ?? '', name: v.name ?? '' });
  }
  return out;
}

export async function parseRaw(raw: Buffer): Promise<ParsedMessage> {
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const headers: Record<string, unknown> = {};
  for (const [k, v] of mail.headers) headers[k] = v;
  return {
    headers,
    subject: mail.subject,
    from: addresses(mail.from),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    messageId: mail.messageId,
    date: mail.date,
    text: mail.text,
    html: mail.html === false ? undefined : mail.html,
    attachments: mail.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      content: a.content,
    })),
  };
}

/** Builds a stored message whose `parse()` is memoized and fills `parsed`. */
export function storedMessage(fields: Omit<StoredMessage, 'parse' | 'parsed'>): StoredMessage {
  let pending: Promise<ParsedMessage> | undefined;
  const message: StoredMessage = {
    ...fields,
    parse() {
      pending ??= parseRaw(fields.raw).then((p) => {
        message.parsed = p;
        return p;
      });
      return pending;
    },
  };
  // Keep parse() out of JSON.stringify / inspection output.
  Object.defineProperty(message, 'parse', { enumerable: false });
  return message;
}

/** From and Message-ID out of the header block, without a full parse (hot path). */
export function scanHeaders(raw: Buffer): { from?: string; messageId?: string } {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = Math.min(raw.length, 65_536);
  const text = raw.toString('utf8', 0, end);
  let from: string | undefined;
  let messageId: string | undefined;
  let current: 'from' | 'id' | undefined;
  for (const line of text.split('\r\n')) {
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (current === 'from' && from !== undefined) from += line;
      else if (current === 'id' && messageId !== undefined) messageId += line.trim();
      continue;
    }
    current = undefined;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'from' && from === undefined) {
      from = line.slice(colon + 1);
      current = 'from';
    } else if (name === 'message-id' && messageId === undefined) {
      messageId = line.slice(colon + 1).trim();
      current = 'id';
    }
  }
  return { from: from === undefined ? undefined : addressOf(from), messageId };
}

/** The address of the first mailbox in a From value (`"Name" <a@b>` or `a@b`). */
export function addressOf(value: string): string | undefined {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    const addr = value.slice(lt + 1, gt < 0 ? undefined : gt).trim();
    return addr.length > 0 ? addr.toLowerCase() : undefined;
  }
  const bare = value
    .replace(/\([^)]*\)/g, '')
    .split(',')[0]
    ?.trim();
  return bare ? bare.toLowerCase() : undefined;
}
