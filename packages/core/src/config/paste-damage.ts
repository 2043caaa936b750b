/**
 * Damage that copying and pasting does to credentials, named precisely: the value looks right on
 * screen, and the token endpoint only says "invalid client secret" (AADSTS7000215) or "certificate
 * not registered". Browser-safe (the admin UI validates with the same schema).
 */

// Invisible format characters that web pages, Word, Teams and Windows' certificate dialog insert:
// the certificate dialog's thumbprint field starts with U+200E LEFT-TO-RIGHT MARK, for example.
const INVISIBLE_NAMES: Record<number, string> = {
  160: 'NO-BREAK SPACE',
  173: 'SOFT HYPHEN',
  847: 'COMBINING GRAPHEME JOINER',
  1564: 'ARABIC LETTER MARK',
  6158: 'MONGOLIAN VOWEL SEPARATOR',
  8203: 'ZERO WIDTH SPACE',
  8204: 'ZERO WIDTH NON-JOINER',
  8205: 'ZERO WIDTH JOINER',
  8206: 'LEFT-TO-RIGHT MARK',
  8207: 'RIGHT-TO-LEFT MARK',
  8234: 'LEFT-TO-RIGHT EMBEDDING',
  8235: 'RIGHT-TO-LEFT EMBEDDING',
  8236: 'POP DIRECTIONAL FORMATTING',
  8237: 'LEFT-TO-RIGHT OVERRIDE',
  8238: 'RIGHT-TO-LEFT OVERRIDE',
  8239: 'NARROW NO-BREAK SPACE',
  8288: 'WORD JOINER',
  8294: 'LEFT-TO-RIGHT ISOLATE',
  8295: 'RIGHT-TO-LEFT ISOLATE',
  8296: 'FIRST STRONG ISOLATE',
  8297: 'POP DIRECTIONAL ISOLATE',
  12288: 'IDEOGRAPHIC SPACE',
  65279: 'BYTE ORDER MARK (ZERO WIDTH NO-BREAK SPACE)',
  65533: 'REPLACEMENT CHARACTER (a byte that was not valid UTF-8)',
};
// Unicode general category Cf (format) plus the space-like characters above.
const INVISIBLE = /\p{Cf}|[\u00a0\u180e\u2000-\u200a\u202f\u3000\ufffd]|\u034f/u;

const QUOTE_PAIRS: readonly [string, string][] = [
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
  ['\u201c', '\u201d'],
  ['\u2018', '\u2019'],
  ['\u201e', '\u201c'],
];

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
const describeSpace = (c: string) =>
  c === ' '
    ? 'a space'
    : c === '\t'
      ? 'a tab'
      : c === '\n' || c === '\r'
        ? 'a line break'
        : hex(c.codePointAt(0) ?? 0);

/** The first invisible format character in `value`: its code point, name and 1-based position. */
export function invisibleCharacter(value: string): string | undefined {
  const m = INVISIBLE.exec(value);
  if (!m) return undefined;
  const cp = m[0].codePointAt(0) ?? 0;
  const position = [...value.slice(0, m.index)].length + 1;
  const where =
    position === 1
      ? 'at the start'
      : position === [...value].length
        ? 'at the end'
        : `at character ${position}`;
  return `contains an invisible character ${hex(cp)}${INVISIBLE_NAMES[cp] ? ` ${INVISIBLE_NAMES[cp]}` : ''} ${where}`;
}

/** What to check: a secret gets every check; a thumbprint only the invisible characters. */
export type PastedValueKind = 'secret' | 'identifier' | 'thumbprint';

/**
 * Names copy-paste damage in a credential value, or `undefined` when there is none.
 * - `secret` (client secret Value): surrounding quotes (env files that pass them literally),
 *   leading or trailing white space, invisible format characters. Entra secret values never
 *   contain any of these.
 * - `identifier` (client ID, tenant): the same.
 * - `thumbprint`: invisible characters (spaces and colons between hex pairs are allowed).
 */
export function pasteDamage(value: string, kind: PastedValueKind): string | undefined {
  if (kind !== 'thumbprint')
    for (const [open, close] of QUOTE_PAIRS)
      if (value.length >= 2 && value.startsWith(open) && value.endsWith(close))
        return `is wrapped in quotes (${open}…${close}); the quotes became part of the value — remove them (env files and docker --env-file pass quotes literally)`;
  const invisible = invisibleCharacter(value);
  if (invisible) return `${invisible}; retype the value or paste it as plain text`;
  if (kind !== 'thumbprint') {
    const lead = /^\s/.exec(value);
    if (lead) return `starts with ${describeSpace(lead[0])}; remove the leading white space`;
    const trail = /\s$/.exec(value);
    if (trail) return `ends with ${describeSpace(trail[0])}; remove the trailing white space`;
  }
  return undefined;
}

/**
 * Why the bytes of a secret or config file are not UTF-8 text, or `undefined`. Windows PowerShell
 * 5's `>` and `Out-File` write UTF-16 with a byte-order mark; decoded as UTF-8 that becomes NUL
 * bytes and replacement characters, which no token endpoint accepts.
 */
export function fileEncodingProblem(bytes: Uint8Array): string | undefined {
  const [b0, b1] = [bytes[0], bytes[1]];
  const utf16 =
    b0 === 0xff && b1 === 0xfe
      ? 'UTF-16 LE (byte-order mark FF FE)'
      : b0 === 0xfe && b1 === 0xff
        ? 'UTF-16 BE (byte-order mark FE FF)'
        : bytes.length >= 4 && bytes[1] === 0 && bytes[3] === 0 && b0 !== 0
          ? 'UTF-16 LE (every other byte is 0)'
          : bytes.length >= 4 && b0 === 0 && bytes[2] === 0 && b1 !== 0
            ? 'UTF-16 BE (every other byte is 0)'
            : undefined;
  return utf16
    ? `is encoded as ${utf16}; save it as UTF-8 (PowerShell: Set-Content -Encoding utf8, or Out-File -Encoding utf8)`
    : undefined;
}
