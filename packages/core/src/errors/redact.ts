const REDACTED = '[REDACTED]';

// Browser-safe (the admin UI bundles this module through ConfigError): atob/btoa, not Buffer.
function fromBase64(word: string): string {
  try {
    return atob(word.replace(/=+$/, ''));
  } catch {
    return '';
  }
}
const toBase64 = (bytes: Uint8Array): string =>
  btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));

/**
 * True when a base64 word decodes to a SASL credential (RFC 4954 initial responses and continuations):
 * PLAIN `[authzid] NUL authcid NUL passwd` (RFC 4616), XOAUTH2 `user=…^Aauth=Bearer …` (Google/Microsoft),
 * OAUTHBEARER `n,a=…,^Aauth=Bearer …` (RFC 7628). Servers sometimes echo these in their replies.
 */
function isSaslCredential(word: string): boolean {
  const text = fromBase64(word.replace(/-/g, '+').replace(/_/g, '/'));
  return (
    /^[^\0-\x1f\x7f]*\0[^\0-\x1f\x7f]+\0[^\0-\x1f\x7f]+$/.test(text) ||
    /^user=/i.test(text) ||
    /^[npy][=,].*\x01auth=/is.test(text) ||
    /\x01auth=/i.test(text)
  );
}
const BASE64_WORD = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{8,}={0,2}(?![A-Za-z0-9+/=_-])/g;

// Order matters: specific shapes first so the generic base64 rule does not swallow useful context.
const rules: [RegExp, string | ((m: string, ...groups: string[]) => string)][] = [
  // The argument of any AUTH command (initial response, RFC 4954), whatever the mechanism.
  [
    // Not in an EHLO keyword line ("250-AUTH LOGIN XOAUTH2"), where the words are mechanism names.
    /((?<![\w-])AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5|DIGEST-MD5|NTLM|GSSAPI|SCRAM-SHA-1|SCRAM-SHA-256)\s+)(?!\[REDACTED\]|(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5|DIGEST-MD5|NTLM|GSSAPI|SCRAM-SHA-1|SCRAM-SHA-256)\b)[A-Za-z0-9+/=_-]{2,}/g,
    `$1${REDACTED}`,
  ],
  // A client's answer to a 334 challenge in a transcript (AUTH LOGIN user name and password lines).
  [/(\b334\b[^\n]*\n[ \t]*(?:C:[ \t]*)?)[A-Za-z0-9+/]{4,}={0,2}(?=[ \t]*(?:\r?\n|$))/g, `$1${REDACTED}`],
  // XOAUTH2 client blob: base64("user=…") always starts with dXNlcj (the 6th character depends on what follows).
  [/dXNlcj[A-Za-z0-9+/]{4,}={0,2}/g, REDACTED],
  [/(auth=Bearer\s+)[^\s\x01]+/gi, `$1${REDACTED}`],
  [/(\bBearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
  // JWTs (access tokens, client assertions).
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  // Google opaque access tokens.
  [/\bya29\.[A-Za-z0-9_-]+/g, REDACTED],
  // Secret-bearing parameters in form bodies (key=value) and JSON ("key":"value").
  [
    /(\b(?:access_token|refresh_token|id_token|client_secret|client_assertion|password|passphrase)=)[^&\s]+/gi,
    `$1${REDACTED}`,
  ],
  [
    /("(?:access_token|refresh_token|id_token|client_secret|client_assertion|password|passphrase)"\s*:\s*")[^"]*/gi,
    `$1${REDACTED}`,
  ],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
];

// Long base64 runs that are not plain hex (thumbprints and trace ids stay readable).
const LONG_BASE64 = /[A-Za-z0-9+/_-]{120,}={0,2}/g;

/**
 * Removes anything that looks like a credential from a text: bearer tokens, JWTs, base64 XOAUTH2
 * blobs, secret-bearing parameters, private keys and long opaque base64 runs.
 *
 * @param secrets known secret values (e.g. the SMTP password): removed with their base64 forms too,
 *   which catches AUTH LOGIN lines no pattern can tell apart from other base64.
 * @remarks Used defensively on every server text that goes into an error; servers sometimes echo
 * what the client sent, including SASL blobs (AUTH PLAIN, LOGIN, XOAUTH2, OAUTHBEARER).
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  if (typeof text !== 'string') return '';
  let out = text;
  for (const [re, replacement] of rules) out = out.replace(re, replacement as string);
  // Whole SASL blobs first: a known secret removed from inside one would hide the blob's shape.
  out = out.replace(BASE64_WORD, (m) => (!/^[0-9A-Fa-f]+$/.test(m) && isSaslCredential(m) ? REDACTED : m));
  for (const secret of Array.isArray(secrets) ? secrets : [])
    if (typeof secret === 'string') out = redactKnown(out, secret);
  return out.replace(LONG_BASE64, (m) => (/^[0-9A-Fa-f]+$/.test(m) ? m : REDACTED));
}

/**
 * Removes one known secret and its base64 forms: alone (AUTH LOGIN sends the password as its own
 * base64 line) and inside a longer blob, at each of the three byte alignments base64 can put it.
 */
function redactKnown(text: string, secret: string): string {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < 4) return text;
  const whole = toBase64(bytes);
  const forms = new Set<string>([secret, whole, whole.replace(/=+$/, '')]);
  for (let pad = 0; pad <= 2; pad++) {
    const shifted = new Uint8Array(pad + bytes.length);
    shifted.set(bytes, pad);
    // Only the characters whose six bits all come from the secret (not the padding or what follows).
    const encoded = toBase64(shifted).slice(
      Math.ceil((pad * 8) / 6),
      Math.floor(((pad + bytes.length) * 8) / 6),
    );
    if (encoded.length >= 4) forms.add(encoded);
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join(REDACTED);
  return out;
}
