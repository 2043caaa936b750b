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

/** True when the failed socket was the one to the proxy (its address or port), not a tunnel. */
function proxyRefusedUs(proxy: string, node: { address?: unknown; port?: unknown } | undefined): boolean {
  if (!node) return false;
  if (typeof node.address === 'string' && proxy.includes(node.address)) return true;
  return typeof node.port === 'number' && proxy.endsWith(`:${node.port}`);
}

/**
 * The hint of a network failure on a named leg: the token endpoint is HTTPS (port 443, maybe through
 * a proxy), SMTP is the entry's own port — advice for one must not be given for the other.
 */
function legHintOf(
  ctx: ErrorContext,
  code: string,
  node: ErrnoLike | undefined,
  host: string | undefined,
): string | undefined {
  const network = DNS.has(code) || CONNECT.has(code) || TIMEOUT.has(code) || code === 'ERR_PROXY_CONNECT';
  if (!network) return undefined;
  if (ctx.leg === 'token') {
    const endpoint = `${or(host, 'the token endpoint')}:443`;
    if (!ctx.proxy)
      return `The token request (HTTPS to ${endpoint}) failed before any answer; the SMTP port is not involved. Check outbound HTTPS to ${or(host, 'the token endpoint')} is allowed from this machine. If this network reaches the web only through a proxy, set HTTPS_PROXY (and NO_PROXY) for the CLI or server, or proxy.url in the entry.`;
    const atProxy =
      code === 'ERR_PROXY_CONNECT'
        ? false
        : proxyRefusedUs(ctx.proxy, node as { address?: unknown; port?: unknown } | undefined);
    if (code === 'ERR_PROXY_CONNECT')
      return `The proxy ${ctx.proxy} answered but would not tunnel to ${endpoint}: ask its administrators to allow CONNECT to ${or(host, 'the token endpoint')} on port 443, or correct HTTPS_PROXY / proxy.url.`;
    return atProxy || DNS.has(code)
      ? `The token request goes through the proxy ${ctx.proxy}, which could not be reached (${code}): check the proxy URL in HTTPS_PROXY or proxy.url, and that this machine may connect to it. The SMTP port is not involved.`
      : `The token request to ${endpoint} through the proxy ${ctx.proxy} failed (${code}): check that the proxy can reach ${or(host, 'the token endpoint')} and allows CONNECT to port 443. The SMTP port is not involved.`;
  }
  if (ctx.leg === 'smtp')
    return `The SMTP connection to ${or(host, 'the server')}${ctx.port ? ` port ${ctx.port}` : ''} failed (${code}); the token endpoint is not involved. Check that outbound traffic to that port is allowed by firewalls and the hosting provider (many cloud providers block 25/465/587 by default); SMTP does not go through HTTPS_PROXY.`;
  return undefined;
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
  if (ctx.proxy) details.proxy = ctx.proxy;
  if (ctx.leg) details.leg = ctx.leg;
  const legHint = legHintOf(ctx, code, node, host);
  const opts = { cause: err, details, ...(legHint ? { hint: legHint } : {}) };
  const target =
    ctx.leg === 'token'
      ? `the token endpoint ${or(host, '')} over HTTPS${ctx.proxy ? ` through the proxy ${ctx.proxy}` : ''}`
      : ctx.leg === 'smtp'
        ? `${or(host, 'the SMTP server')}${ctx.port ? ` port ${ctx.port}` : ''} (SMTP)`
        : or(host, 'the server');

  if (code === 'ERR_PROXY_CONNECT')
    return new SmtpOAuthError(
      'NETWORK_CONNECT',
      `The proxy ${or(ctx.proxy, '')} refused to open a tunnel to ${or(host, 'the token endpoint')}: ${raw}`,
      opts,
    );

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
