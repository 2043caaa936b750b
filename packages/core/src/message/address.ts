import { expectMessageString } from '../internal/guard.js';
const encoder = new TextEncoder();
const octets = (s: string): number => encoder.encode(s).length;

// RFC 5322 atext plus any non-ASCII character (RFC 6531 SMTPUTF8).
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+$/u;
const QUOTED_LOCAL = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10FFFF}]|\\[\x20-\x7e])*"$/u;
const LABEL = /^(?!-)[\p{L}\p{N}\p{M}-]{1,63}(?<!-)$/u;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** True when the string contains CR, LF or NUL — the characters that enable header injection. */
export function hasLineBreakOrNul(value: string): boolean {
  return /[\r\n\0]/.test(value);
}

/**
 * Checks a bare email address (no display name) against RFC 5321 with internationalised
 * local parts and domains (SMTPUTF8/IDN). Returns `undefined` when valid, else the reason.
 */
export function addressProblem(address: string): string | undefined {
  if (typeof address !== 'string') return 'must be a string';
  if (address.length === 0) return 'is empty';
  if (hasLineBreakOrNul(address)) return 'contains a line break (CR/LF) or NUL character';
  if (/[\x00-\x1f\x7f]/.test(address)) return 'contains a control character';
  if (/\s/.test(address.replace(/^"[^"]*"/, ''))) return 'contains white space';
  if (octets(address) > 254) return 'is longer than 254 octets';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1)
    return 'must be of the form local@domain, e.g. noreply@contoso.com';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (octets(local) > 64) return 'has a local part longer than 64 octets';
  if (local.startsWith('"')) {
    if (!QUOTED_LOCAL.test(local)) return 'has an invalid quoted local part';
  } else if (!local.split('.').every((part) => part.length > 0 && ATOM.test(part))) {
    return 'has an invalid local part (before the @)';
  }
  if (domain.startsWith('[')) {
    const literal = /^\[(.*)\]$/.exec(domain)?.[1];
    if (literal === undefined || !(IPV4.test(literal) || /^IPv6:[0-9a-f:.]+$/i.test(literal)))
      return 'has an invalid address literal domain';
    return undefined;
  }
  const labels = domain.replace(/\.$/, '').split('.');
  if (labels.length < 2) return `has domain "${domain}" without a dot; use a fully qualified domain`;
  if (!labels.every((l) => LABEL.test(l))) return `has an invalid domain "${domain}"`;
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return `has an invalid domain "${domain}"`;
  return undefined;
}

/** True when `address` is a valid bare email address. */
export function isEmailAddress(address: string): boolean {
  return addressProblem(address) === undefined;
}

/**
 * Splits an address list as nodemailer and RFC 5322 write it (`a@x, "Doe, Jane" <b@y>`) at the
 * commas outside quoted strings, angle brackets and comments. Empty items are dropped.
 */
export function splitAddressList(list: string): string[] {
  expectMessageString(list, 'list');
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as string;
    if (quoted) {
      current += c;
      if (c === '\\' && i + 1 < list.length) current += list[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle++;
    else if (c === '>') angle = Math.max(0, angle - 1);
    else if (c === '(') comment++;
    else if (c === ')') comment = Math.max(0, comment - 1);
    else if (c === ',' && angle === 0 && comment === 0) {
      if (current.trim()) items.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}
