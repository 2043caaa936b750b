/**
 * Verifies a certificate client assertion (RFC 7523) the way Entra does: find the registered
 * certificate by the thumbprint in the header, verify the signature with that certificate's public
 * key, then check iss/sub, aud, the time window and `jti` replay.
 */
import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, importX509, type JWTPayload } from 'jose';
import type { AppRegistration, RegisteredCertificate } from '../directory/index.js';
import { aadsts, EntraRequestError } from './errors.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra tolerates some clock skew between the client and itself. */
const SKEW_SECONDS = 300;

export interface AssertionContext {
  app: AppRegistration;
  clientId: string;
  /** Token endpoint URLs the assertion's `aud` may name. */
  audiences: Set<string>;
  nowMs: number;
  /** Replay cache shared by the server: key → expiry (ms). */
  seenJtis: Map<string, number>;
}

export interface VerifiedAssertion {
  alg: 'RS256' | 'PS256';
  thumbprintSha1: string;
}

function fail(e: ReturnType<(typeof aadsts)[keyof typeof aadsts]>): never {
  throw new EntraRequestError(e);
}

function hexFromBase64url(value: string): string {
  return Buffer.from(value, 'base64url').toString('hex').toUpperCase();
}

/** Reads the header and `alg` first: whether the request is RS256 or PS256 decides the log's authMethod. */
export function assertionAlgorithm(assertion: string): 'RS256' | 'PS256' | undefined {
  try {
    const alg = decodeProtectedHeader(assertion).alg;
    return alg === 'RS256' || alg === 'PS256' ? alg : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyClientAssertion(
  assertion: string,
  ctx: AssertionContext,
): Promise<VerifiedAssertion> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    fail(aadsts.assertionMalformed('The client_assertion is not a signed JWT.'));
  }
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') {
    fail(aadsts.assertionMalformed(`Unsupported client assertion signing algorithm '${String(alg)}'.`));
  }
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : undefined;
  if (!x5t && !x5tS256) {
    fail(aadsts.assertionMalformed("The client assertion header has neither 'x5t' nor 'x5t#S256'."));
  }

  // The thumbprint the client claims; Entra prints it (hex) when it cannot find the key.
  const thumbprintHex = x5tS256 ? hexFromBase64url(x5tS256) : hexFromBase64url(x5t as string);
  const registered: RegisteredCertificate | undefined = ctx.app.certificates.find((c) =>
    x5tS256 ? c.thumbprintSha256 === thumbprintHex : c.thumbprintSha1 === thumbprintHex,
  );
  if (!registered) fail(aadsts.keyNotFound(thumbprintHex, ctx.clientId));

  const x509 = new X509Certificate(registered.certificatePem);
  const validFrom = new Date(x509.validFrom);
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() < ctx.nowMs) fail(aadsts.keyExpired(thumbprintHex, validFrom, validTo));

  try {
    const key = await importX509(registered.certificatePem, alg);
    await compactVerify(assertion, key, { algorithms: [alg] });
  } catch {
    fail(aadsts.badSignature(thumbprintHex, validFrom, validTo));
  }

  if (claims.iss !== ctx.clientId || claims.sub !== ctx.clientId) fail(aadsts.assertionIssuer());
  const auds = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  if (!auds.some((a) => ctx.audiences.has(a.toLowerCase()))) fail(aadsts.assertionAudience());

  const now = Math.floor(ctx.nowMs / 1000);
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
  const toDate = (s: number | undefined) => (s === undefined ? undefined : new Date(s * 1000));
  if (exp === undefined || now > exp + SKEW_SECONDS || (nbf !== undefined && nbf > now + SKEW_SECONDS)) {
    fail(aadsts.assertionTime(new Date(ctx.nowMs), toDate(nbf), toDate(exp)));
  }

  if (typeof claims.jti !== 'string' || claims.jti.length === 0) {
    fail(aadsts.assertionMalformed("The client assertion has no 'jti' claim."));
  }
  for (const [key, until] of ctx.seenJtis) if (until < ctx.nowMs) ctx.seenJtis.delete(key);
  const replayKey = `${ctx.clientId}\u0000${claims.jti}`;
  if (ctx.seenJtis.has(replayKey)) fail(aadsts.assertionReplayed());
  // Remember the jti until the assertion could no longer be accepted anyway.
  ctx.seenJtis.set(replayKey, (exp + SKEW_SECONDS) * 1000);

  return { alg, thumbprintSha1: registered.thumbprintSha1 };
}
