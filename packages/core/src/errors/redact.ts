const REDACTED = '[REDACTED]';

// Order matters: specific shapes first so the generic base64 rule does not swallow useful context.
const rules: [RegExp, string | ((m: string, ...groups: string[]) => string)][] = [
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
 * @remarks Used defensively on every server text that goes into an error; servers sometimes echo
 * what the client sent.
 */
export function redactSecrets(text: string): string {
  if (typeof text !== 'string') return '';
  let out = text;
  for (const [re, replacement] of rules) out = out.replace(re, replacement as string);
  return out.replace(LONG_BASE64, (m) => (/^[0-9A-Fa-f]+$/.test(m) ? m : REDACTED));
}
