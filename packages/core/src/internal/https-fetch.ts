import type { Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates, type SecureContextOptions } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { isSmtpOAuthError, SmtpOAuthError } from '../errors/index.js';

/** The subset of the WHATWG `Response` the toolkit reads. */
export interface FetchLikeResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The subset of the WHATWG `RequestInit` the toolkit sends. */
export interface FetchLikeInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /**
   * `'manual'`: hand a 3xx back instead of following it (global `fetch` follows by default;
   * {@link createHttpsFetch} never follows, so ignores this).
   */
  redirect?: 'manual';
}

/** A `fetch`-compatible function: global `fetch` fits, so does {@link createHttpsFetch}. */
export type FetchLike = (url: string, init?: FetchLikeInit) => Promise<FetchLikeResponse>;

export interface HttpsFetchOptions {
  /** Extra trusted CA certificates (PEM), e.g. a corporate proxy's or a private CA. */
  ca?: string | string[];
  /** Abort a request after this long. @default 30000 */
  timeoutMs?: number;
  /** Largest response body accepted. @default 1 MiB */
  maxBodyBytes?: number;
  /**
   * HTTP CONNECT proxy (`http://proxy:3128`, credentials in the URL if it needs them), or a function
   * that picks one per target URL (`undefined`: direct). @default direct
   */
  proxy?: ProxySetting;
}

/**
 * A proxy for HTTPS requests: its URL, or a function choosing one per target URL — e.g. built by an
 * entry point from `HTTPS_PROXY`/`NO_PROXY` (proxy-from-env's `getProxyForUrl`).
 */
export type ProxySetting = string | ((targetUrl: string) => string | undefined);

/** The proxy URL for a target, if any. */
export function proxyFor(setting: ProxySetting | undefined, targetUrl: string): string | undefined {
  const url = typeof setting === 'function' ? setting(targetUrl) : setting;
  return url && url.length > 0 ? url : undefined;
}

/** A proxy URL as it may be shown: scheme, host and port, never its credentials. */
export function proxyLabel(proxyUrl: string): string {
  try {
    const u = new URL(proxyUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparsable proxy URL)';
  }
}

/**
 * Decides whether a token client may contact a URL: returns to allow it, throws to refuse it. See
 * `TokenProviderBaseOptions.checkUrl`.
 */
export type CheckUrl = (url: URL) => void | Promise<void>;

/**
 * Runs `check` on a URL the token client is about to contact. A refusal becomes
 * `TOKEN_ENDPOINT_NOT_ALLOWED` (an `SmtpOAuthError` thrown by `check` is kept as it is, so a caller
 * can give its own hint); only the host is named, never the path or query.
 *
 * @throws SmtpOAuthError `TOKEN_ENDPOINT_NOT_ALLOWED`
 */
export async function assertUrlAllowed(check: CheckUrl | undefined, url: string): Promise<void> {
  if (!check) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new SmtpOAuthError('TOKEN_ENDPOINT_NOT_ALLOWED', 'Refusing a token request to an unparsable URL', {
      cause: err,
    });
  }
  try {
    await check(parsed);
  } catch (err) {
    if (isSmtpOAuthError(err)) throw err;
    throw new SmtpOAuthError(
      'TOKEN_ENDPOINT_NOT_ALLOWED',
      `Refusing a token request to ${parsed.host}: the host is not allowed`,
      { cause: err, details: { host: parsed.hostname } },
    );
  }
}

/**
 * Guards a token client's HTTP traffic: `check` runs before every request, and a redirect (3xx)
 * is an error, never a hop — the requests carry the client credential, and neither this package's
 * client nor a guarded one follows a `Location` (global `fetch` would, re-sending the body on 307/308).
 *
 * @throws SmtpOAuthError `TOKEN_ENDPOINT_NOT_ALLOWED` (refused by `check`, nothing sent);
 * `TOKEN_ENDPOINT_REJECTED` for a 3xx answer (its `Location` host in `details.location`)
 */
export function guardedFetch(fetch: FetchLike, check: CheckUrl | undefined): FetchLike {
  return async (url, init) => {
    await assertUrlAllowed(check, url);
    const res = await fetch(url, { ...init, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400)
      throw redirectRefused(url, res.status, res.headers.get('location'));
    return res;
  };
}

/** The refusal of a 3xx answer to a token client's request (see {@link guardedFetch}). */
export function redirectRefused(
  url: string,
  status: number,
  location: string | null | undefined,
): SmtpOAuthError {
  const from = new URL(url).host;
  let to = '(no Location)';
  if (location)
    try {
      to = new URL(location, url).host;
    } catch {
      to = '(unparsable Location)';
    }
  return new SmtpOAuthError(
    'TOKEN_ENDPOINT_REJECTED',
    `${from} answered HTTP ${status}, a redirect to ${to}; token requests do not follow redirects`,
    {
      hint: `Configure the final token endpoint URL, not one that redirects (the redirect points to ${to})`,
      details: { status, host: from, location: to },
    },
  );
}

/**
 * Node's `ca` option replaces the system roots; a private CA is meant to be trusted in addition,
 * or setting it for one server would break every public one (login.microsoftonline.com).
 */
export function withSystemRoots(ca: string | string[]): string[] {
  return [...rootCertificates, ...(Array.isArray(ca) ? ca : [ca])];
}

class HeaderView {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.raw))
      if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
    return out;
  }
}

export interface HttpsResponse extends FetchLikeResponse {
  readonly headers: HeaderView;
}

/**
 * A minimal `fetch` over node:https that can trust extra CAs — Node 20's global fetch cannot
 * without undici. https only: client credentials never travel over plain http. Certificate
 * verification is always on. Redirects are never followed: a 3xx comes back as the response.
 */
export function createHttpsFetch(
  options: HttpsFetchOptions = {},
): (url: string, init?: FetchLikeInit) => Promise<HttpsResponse> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const tls: SecureContextOptions & { rejectUnauthorized: true; minVersion: 'TLSv1.2' } = {
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
  if (options.ca) tls.ca = withSystemRoots(options.ca);
  // One tunnelling agent per proxy (https-proxy-agent speaks CONNECT; TLS to the target is still
  // ours, with the options above, end to end through the tunnel).
  const agents = new Map<string, Agent>();
  const agentFor = (target: string): Agent | undefined => {
    const proxyUrl = proxyFor(options.proxy, target);
    if (!proxyUrl) return undefined;
    let agent = agents.get(proxyUrl);
    if (!agent) {
      agent = new HttpsProxyAgent(proxyUrl);
      agents.set(proxyUrl, agent);
    }
    return agent;
  };
  return (url, init = {}) =>
    new Promise<HttpsResponse>((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch (err) {
        reject(err);
        return;
      }
      if (target.protocol !== 'https:') {
        reject(
          Object.assign(new Error(`Refusing non-https URL ${target.protocol}//${target.host}`), {
            code: 'ERR_INVALID_PROTOCOL',
          }),
        );
        return;
      }
      const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (body) headers['content-length'] = String(body.length);
      let agent: Agent | undefined;
      try {
        agent = agentFor(target.toString());
      } catch (err) {
        reject(
          Object.assign(new Error(`Invalid proxy URL: ${(err as Error).message}`), {
            code: 'ERR_PROXY_INVALID',
          }),
        );
        return;
      }
      const req = httpsRequest(
        target,
        {
          method: init.method ?? 'GET',
          headers,
          timeout: timeoutMs,
          ...tls,
          ...(agent ? { agent } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBody) {
              res.destroy(
                Object.assign(new Error('Response body too large'), { code: 'ERR_BODY_TOO_LARGE' }),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: new HeaderView(res.headers),
              text: async () => text,
            });
          });
        },
      );
      // A proxy that refuses the tunnel answers CONNECT with a non-200 status; https-proxy-agent then
      // replays that reply as the response. Report it as the proxy's refusal, not the endpoint's.
      req.on('proxyConnect', (connect: { statusCode?: number }) => {
        if (connect.statusCode !== 200)
          req.destroy(
            Object.assign(
              new Error(`The proxy refused CONNECT ${target.host} (HTTP ${connect.statusCode ?? '?'})`),
              { code: 'ERR_PROXY_CONNECT', statusCode: connect.statusCode },
            ),
          );
      });
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`Request timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** Flattens a fetch-like response's headers into a record (lower-case names). */
export function headersToRecord(headers: FetchLikeResponse['headers']): Record<string, string> {
  if (headers instanceof HeaderView) return headers.toRecord();
  const out: Record<string, string> = {};
  const iterable = headers as unknown as { forEach?: (cb: (value: string, key: string) => void) => void };
  if (typeof iterable.forEach === 'function')
    iterable.forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
  else
    for (const name of ['retry-after', 'content-type']) {
      const v = headers.get(name);
      if (v !== null) out[name] = v;
    }
  return out;
}

/**
 * Normalises an aborted request (AbortSignal.timeout → `TimeoutError`/`AbortError`) into an
 * errno-style `ETIMEDOUT`, which the error catalog understands.
 */
export function timeoutAsErrno(err: unknown): unknown {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return Object.assign(new Error('Request timed out'), { code: 'ETIMEDOUT', cause: err });
  return err;
}
