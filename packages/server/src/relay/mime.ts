/**
 * The few header edits delivery needs, done on bytes so the rest of the message (bodies,
 * attachments, 8-bit text, encoded words) passes through exactly as the device sent it.
 */
import addressparser from 'nodemailer/lib/addressparser/index.js';

const CR = 0x0d;
const LF = 0x0a;

/**
 * RFC 5321 §2.3.8: lines end in CRLF. Legacy devices send bare LF; Exchange refuses or mangles such
 * messages, so a bare LF becomes CRLF. Nothing else changes (a CRLF message is returned as is).
 */
export function normalizeLineEndings(raw: Buffer): Buffer {
  // Native indexOf finds the line ends; bytes between them are copied as they are.
  const ends: number[] = [];
  for (let i = raw.indexOf(LF); i !== -1; i = raw.indexOf(LF, i + 1)) if (raw[i - 1] !== CR) ends.push(i);
  if (ends.length === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + ends.length);
  let from = 0;
  let o = 0;
  for (const lf of ends) {
    o += raw.copy(out, o, from, lf);
    out[o++] = CR;
    out[o++] = LF;
    from = lf + 1;
  }
  raw.copy(out, o, from);
  return out;
}

/** One header field: its name and unfolded value, and where its lines are in the message. */
export interface HeaderField {
  name: string;
  /** Unfolded value (latin1 view of the bytes; addresses are ASCII). */
  value: string;
  start: number;
  /** Just past the field's last CRLF. */
  end: number;
}

/** The header fields of a CRLF message and where the header ends (the start of the empty line). */
export function readHeader(raw: Buffer): { fields: HeaderField[]; end: number } {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const eol = raw.indexOf('\r\n', pos, 'latin1');
    const lineEnd = eol === -1 ? raw.length : eol;
    if (lineEnd === pos) return { fields, end: pos }; // the empty line
    const line = raw.toString('latin1', pos, lineEnd);
    const next = eol === -1 ? raw.length : eol + 2;
    const last = fields.at(-1);
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last.value += line;
      last.end = next;
    } else {
      const colon = line.indexOf(':');
      // A line that is no header field ends the header (a message without the empty line).
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) return { fields, end: pos };
      fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim(), start: pos, end: next });
    }
    pos = next;
  }
  return { fields, end: raw.length };
}

export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower)?.value;
}

/** The mail addresses in an address header (groups flattened), lower-cased. */
export function addressesOf(value: string): string[] {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && Array.isArray(a.group)) walk(a.group);
      else if ('address' in a && a.address) out.push(a.address.toLowerCase());
    }
  };
  walk(addressparser(value));
  return out;
}

/** The header edits delivery needs. */
export interface DeliveryEdits {
  /** Prepended when the message has no Message-ID (RFC 5322 §3.6.4; fixed at acceptance). */
  messageId?: string;
  /**
   * From becomes this mailbox (keeping the display name); the original From goes to Reply-To unless
   * the message already names one.
   */
  rewriteFrom?: string;
}

/** Applies {@link DeliveryEdits}; everything outside the edited header fields is copied unchanged. */
export function editHeader(raw: Buffer, fields: readonly HeaderField[], edits: DeliveryEdits): Buffer {
  const prepend: string[] = [];
  if (edits.messageId) prepend.push(`Message-ID: ${edits.messageId}\r\n`);
  const from = edits.rewriteFrom ? fields.find((f) => f.name.toLowerCase() === 'from') : undefined;
  if (!edits.rewriteFrom || !from) {
    if (edits.rewriteFrom) prepend.push(`From: <${edits.rewriteFrom}>\r\n`);
    return prepend.length ? Buffer.concat([Buffer.from(prepend.join(''), 'latin1'), raw]) : raw;
  }
  const parsed = addressparser(from.value)[0];
  // The display name as sent (an encoded word stays encoded); a bare name is quoted.
  const name = parsed && 'name' in parsed && parsed.name ? displayName(from.value) : '';
  const replacement = [`From: ${name ? `${name} ` : ''}<${edits.rewriteFrom}>\r\n`];
  if (headerValue(fields, 'reply-to') === undefined) {
    replacement.push(`Reply-To: ${from.value}\r\n`);
  }
  return Buffer.concat([
    Buffer.from(prepend.join(''), 'latin1'),
    raw.subarray(0, from.start),
    Buffer.from(replacement.join(''), 'latin1'),
    raw.subarray(from.end),
  ]);
}

/** The part of `Name <addr>` before the angle bracket, as written (quotes and encoded words kept). */
function displayName(value: string): string {
  const lt = value.indexOf('<');
  const text = (lt > 0 ? value.slice(0, lt) : '').trim();
  return text;
}
