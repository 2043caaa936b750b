import { type ErrorContext, or } from './context.js';
import { redactSecrets } from './redact.js';
import { SmtpOAuthError } from './smtp-oauth-error.js';

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EDNS']);
const CONNECT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNECTION',
  'ESOCKET',
]);
const TIMEOUT = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);
const TLS_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

const CERT_TEXT =
  /self[- ]signed certificate|unable to verify|certificate has expired|not yet valid|altnames|unable to get (local )?issuer/i;

interface ErrnoLike {
  command?: unknown;
  code?: unknown;
  message?: unknown;
  hostname?: unknown;
  syscall?: unknown;
  cause?: unknown;
}

function findCode(err: unknown, depth = 0): { code: string | undefined; node: ErrnoLike | undefined } {
  if (!err || typeof err !== 'object' || depth > 4) return { code: undefined, node: undefined };
  const e = err as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  // Wrappers such as fetch's "fetch failed" or nodemailer's ESOCKET carry the useful code in cause.
  const inner = findCode(e.cause, depth + 1);
  if (inner.code && (!code || code === 'ESOCKET' || code === 'ECONNECTION' || code.startsWith('UND_ERR')))
    return inner;
  return { code, node: e };
}

/**
 * Maps a Node network error (errno codes, TLS verification codes, nodemailer's ETLS/EDNS/ESOCKET,
 * fetch's `cause`) to a typed error. Pure: no I/O. Returns `undefined` when the error is not a
 * network error.
 */
export function errorFromNetwork(err: unknown, ctx: ErrorContext = {}): SmtpOAuthError | undefined {
  const { code, node } = findCode(err);
  if (!code) return undefined;
  const raw = typeof node?.message === 'string' ? redactSecrets(node.message) : code;
  const host = typeof node?.hostname === 'string' ? node.hostname : ctx.host;
  const details: Record<string, unknown> = { errno: code, ...(host ? { host } : {}) };
  const opts = { cause: err, details };
  const target = or(host, 'the server');

  if (DNS.has(code)) return new SmtpOAuthError('NETWORK_DNS', `Cannot resolve ${target} (${code})`, opts);
  if (TIMEOUT.has(code))
    return new SmtpOAuthError('NETWORK_TIMEOUT', `Timed out talking to ${target} (${code})`, opts);
  if (TLS_CERT.has(code))
    return new SmtpOAuthError('TLS_CERTIFICATE_INVALID', `TLS certificate of ${target} not trusted: ${raw}`, {
      ...opts,
      transient: false,
      hint:
        code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH'
          ? `The certificate does not cover ${target}; use the host name it was issued for (e.g. smtp.office365.com).`
          : undefined,
    });
  // nodemailer (requireTLS) sends STARTTLS even when not advertised and reports the refusal as ETLS.
  if (
    code === 'ETLS' &&
    (/upgrading connection with STARTTLS|does not support STARTTLS/i.test(raw) ||
      (node?.command === 'STARTTLS' && !/initiating TLS/i.test(raw)))
  )
    return new SmtpOAuthError(
      'TLS_REQUIRED',
      `${target} does not offer STARTTLS; no credentials were sent`,
      opts,
    );
  // nodemailer wraps the TLS error into a message, losing its code.
  if (code === 'ETLS' && CERT_TEXT.test(raw))
    return new SmtpOAuthError('TLS_CERTIFICATE_INVALID', `TLS certificate of ${target} not trusted: ${raw}`, {
      ...opts,
      transient: false,
    });
  if (code === 'ETLS' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')
    return new SmtpOAuthError('TLS_HANDSHAKE_FAILED', `TLS handshake with ${target} failed: ${raw}`, opts);
  if (CONNECT.has(code))
    return new SmtpOAuthError('NETWORK_CONNECT', `Cannot connect to ${target} (${code})`, opts);
  return undefined;
}
