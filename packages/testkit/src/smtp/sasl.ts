/** Decoding of the SASL blobs clients send for OAuth2 (XOAUTH2 and RFC 7628 OAUTHBEARER). */

export interface BearerCredentials {
  user: string;
  token: string;
}

const BEARER = 'auth=Bearer ';

function decodeBase64(blob: string): string | undefined {
  const trimmed = blob.trim();
  if (trimmed.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'base64').toString('utf8');
}

function bearerFrom(kv: string): string | undefined {
  if (!kv.startsWith(BEARER)) return undefined;
  const token = kv.slice(BEARER.length).trim();
  return token.length > 0 ? token : undefined;
}

/** `base64("user=" + mailbox + "\x01auth=Bearer " + token + "\x01\x01")`; undefined when malformed. */
export function parseXoauth2(blob: string): BearerCredentials | undefined {
  const text = decodeBase64(blob);
  if (text === undefined) return undefined;
  let user: string | undefined;
  let token: string | undefined;
  for (const part of text.split('\x01')) {
    if (part.startsWith('user=')) user = part.slice(5);
    else if (part.startsWith('auth=')) token = bearerFrom(part);
  }
  if (!user || !token) return undefined;
  return { user, token };
}

/** RFC 7628: `n,a=user,\x01host=…\x01port=…\x01auth=Bearer …\x01\x01`; undefined when malformed. */
export function parseOauthBearer(blob: string): BearerCredentials | undefined {
  const text = decodeBase64(blob);
  if (text === undefined) return undefined;
  const sep = text.indexOf('\x01');
  if (sep < 0) return undefined;
  // gs2 header: cbind flag, authzid, empty — e.g. "n,a=user@contoso.com,".
  const gs2 = text.slice(0, sep).split(',');
  const flag = gs2[0];
  if (flag !== 'n' && flag !== 'y' && !flag?.startsWith('p=')) return undefined;
  const authz = gs2[1] ?? '';
  const user = authz.startsWith('a=') ? authz.slice(2).replace(/=2C/gi, ',').replace(/=3D/gi, '=') : '';
  let token: string | undefined;
  for (const part of text.slice(sep + 1).split('\x01')) {
    if (part.startsWith('auth=')) token = bearerFrom(part);
  }
  if (!user || !token) return undefined;
  return { user, token };
}

/** Username out of an AUTH PLAIN blob (`authzid\0authcid\0password`), for the attempt log only. */
export function plainUser(blob: string): string | undefined {
  const text = decodeBase64(blob);
  if (text === undefined) return undefined;
  const parts = text.split('\0');
  return parts[1] || parts[0] || undefined;
}

export function base64Text(blob: string): string | undefined {
  return decodeBase64(blob);
}
