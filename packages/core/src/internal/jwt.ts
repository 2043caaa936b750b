import {
  constants,
  createHash,
  createPrivateKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from 'node:crypto';

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** A decoded (NOT verified) JWT. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Decodes a compact JWS without verifying it; `undefined` if it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || Array.isArray(header)) return undefined;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header: header as Record<string, unknown>, payload: payload as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Signature algorithm of a client assertion: RS256 + `x5t` (SHA-1) or PS256 + `x5t#S256`. */
export type AssertionAlgorithm = 'RS256' | 'PS256';

/** What signs client assertions: the certificate (public) and its private key. */
export interface AssertionSigner {
  /** Signs a fresh assertion (new `jti`) for `audience` at time `nowMs`. */
  sign(input: { clientId: string; audience: string; nowMs: number; lifetimeSeconds?: number }): string;
  readonly algorithm: AssertionAlgorithm;
  readonly thumbprintSha1: string;
  readonly thumbprintSha256: string;
}

/**
 * Builds a signer for RFC 7523 client assertions as Entra expects them: header `x5t`
 * (RS256) or `x5t#S256` (PS256), claims `aud` = token endpoint, `iss` = `sub` = client id, a
 * unique `jti`, `nbf`/`iat`/`exp`.
 */
export function createAssertionSigner(input: {
  certificatePem: string;
  privateKeyPem: string;
  passphrase?: string;
  algorithm?: AssertionAlgorithm;
  /** Send the certificate chain in `x5c` (for subject-name/issuer authentication). @default false */
  includeX5c?: boolean;
}): AssertionSigner {
  const cert = new X509Certificate(input.certificatePem);
  const key: KeyObject = createPrivateKey(
    input.passphrase ? { key: input.privateKeyPem, passphrase: input.passphrase } : input.privateKeyPem,
  );
  const sha1 = createHash('sha1').update(cert.raw).digest();
  const sha256 = createHash('sha256').update(cert.raw).digest();
  const algorithm = input.algorithm ?? 'PS256';
  const header: Record<string, unknown> = { alg: algorithm, typ: 'JWT' };
  if (algorithm === 'RS256') header.x5t = b64url(sha1);
  else header['x5t#S256'] = b64url(sha256);
  if (input.includeX5c) header.x5c = [cert.raw.toString('base64')];
  const encodedHeader = b64url(JSON.stringify(header));
  return {
    algorithm,
    thumbprintSha1: sha1.toString('hex').toUpperCase(),
    thumbprintSha256: sha256.toString('hex').toUpperCase(),
    sign({ clientId, audience, nowMs, lifetimeSeconds = 600 }) {
      const iat = Math.floor(nowMs / 1000);
      const payload = {
        aud: audience,
        iss: clientId,
        sub: clientId,
        jti: randomUUID(),
        nbf: iat,
        iat,
        exp: iat + lifetimeSeconds,
      };
      const signingInput = `${encodedHeader}.${b64url(JSON.stringify(payload))}`;
      const signature =
        algorithm === 'RS256'
          ? sign('sha256', Buffer.from(signingInput), key)
          : sign('sha256', Buffer.from(signingInput), {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: 32,
            });
      return `${signingInput}.${b64url(signature)}`;
    },
  };
}
