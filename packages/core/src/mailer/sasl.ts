/**
 * SASL initial responses of the OAuth2 mechanisms and the RFC 4954 §4 rule for sending them: the
 * initial response goes on the AUTH command line only while that line stays within RFC 5321's
 * 512-octet command-line limit (§4.5.3.1.4, CRLF included); otherwise the client sends the bare
 * `AUTH <mechanism>`, waits for `334`, and sends the response on its own line. An Entra access
 * token (about 1,500 bytes as XOAUTH2) never fits, so in practice OAuth2 takes the two-step form —
 * which Exchange Online accepts too, and which servers with a 1 KB line limit (Dovecot) require.
 */

/** RFC 5321 §4.5.3.1.4: the maximum total length of a command line including the CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 512;

export type OAuth2Mechanism = 'XOAUTH2' | 'OAUTHBEARER';

/** The XOAUTH2 initial response (Google's and Microsoft's format), base64. */
export function xoauth2InitialResponse(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`).toString('base64');
}

/** The OAUTHBEARER initial response (RFC 7628 §3.1), base64. */
export function oauthBearerInitialResponse(
  user: string,
  accessToken: string,
  host?: string,
  port?: number,
): string {
  const gs2 = `n,a=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},`;
  const kv = [
    ...(host ? [`host=${host}`] : []),
    ...(port ? [`port=${port}`] : []),
    `auth=Bearer ${accessToken}`,
  ];
  return Buffer.from(`${gs2}\x01${kv.join('\x01')}\x01\x01`).toString('base64');
}

/** RFC 7628 §3.2.3: the client's answer to an error challenge (a single %x01). */
export const OAUTHBEARER_ERROR_ACK = Buffer.from('\x01').toString('base64');

/**
 * The lines a client sends for `AUTH <mechanism>` with `initialResponse`: one line when it fits in
 * {@link MAX_COMMAND_LINE_OCTETS}, else the bare command and, after the server's `334`, the
 * response alone (RFC 4954 §4).
 */
export function authCommandLines(
  mechanism: string,
  initialResponse: string,
): { command: string; continuation?: string } {
  const single = `AUTH ${mechanism} ${initialResponse}`;
  if (Buffer.byteLength(single) + 2 <= MAX_COMMAND_LINE_OCTETS) return { command: single };
  return { command: `AUTH ${mechanism}`, continuation: initialResponse };
}
