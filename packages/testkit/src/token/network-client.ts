/**
 * An HTTP client with msal-node's `INetworkModule` shape (`system.networkClient`) that trusts a
 * given CA, so an unmodified `ConfidentialClientApplication` can talk to the testkit's HTTPS token
 * server in-process. msal-node 7's default client is global `fetch`, which cannot take a CA per
 * request without undici; this one uses node:https with `ca`.
 *
 * The testkit does not depend on msal: the types below are structural copies of msal-common's
 * `NetworkRequestOptions` / `NetworkResponse`.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface NetworkRequestOptionsLike {
  headers?: Record<string, string>;
  body?: string;
}

export interface NetworkResponseLike<T> {
  headers: Record<string, string>;
  body: T;
  status: number;
}

/** Structurally msal's `INetworkModule`. */
export interface CaTrustingNetworkClient {
  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptionsLike,
    timeout?: number,
  ): Promise<NetworkResponseLike<T>>;
  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptionsLike): Promise<NetworkResponseLike<T>>;
}

export interface CaTrustingNetworkClientOptions {
  /** PEM of the CA to trust (in addition to nothing else: only this CA). */
  ca: string;
  /**
   * Origins the client may contact (e.g. `[tokenServer.url]`). Any other URL is refused with an
   * error before a connection is made. msal-node asks `https://login.microsoftonline.com/common/discovery/instance`
   * for any authority host it does not know, unless `knownAuthorities` or `cloudDiscoveryMetadata`
   * is configured; this guard turns that silent call to Microsoft into a visible failure in tests.
   */
  allowedOrigins?: string[];
  /** Called with each URL requested (for assertions on what MSAL asked for). */
  onRequest?: (method: 'GET' | 'POST', url: string) => void;
}

/** Creates an msal-compatible `networkClient` that trusts `ca`. */
export function createCaTrustingNetworkClient(
  options: CaTrustingNetworkClientOptions,
): CaTrustingNetworkClient {
  const allowed = options.allowedOrigins?.map((o) => new URL(o).origin);

  function send<T>(
    method: 'GET' | 'POST',
    url: string,
    opts: NetworkRequestOptionsLike | undefined,
    timeout?: number,
  ): Promise<NetworkResponseLike<T>> {
    options.onRequest?.(method, url);
    const target = new URL(url);
    if (allowed && !allowed.includes(target.origin)) {
      return Promise.reject(new Error(`network client refused ${target.origin}: not in allowedOrigins`));
    }
    const body = method === 'POST' ? (opts?.body ?? '') : undefined;
    const headers: Record<string, string | number> = { ...(opts?.headers ?? {}) };
    if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    const requestFn = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = requestFn(target, { method, headers, ca: options.ca, timeout }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          try {
            resolve({ headers: responseHeaders, body: JSON.parse(text) as T, status: res.statusCode ?? 0 });
          } catch (cause) {
            reject(new Error(`Failed to parse response from ${target.origin}${target.pathname}`, { cause }));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('Request timeout')));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  return {
    sendGetRequestAsync: (url, opts, timeout) => send('GET', url, opts, timeout),
    sendPostRequestAsync: (url, opts) => send('POST', url, opts),
  };
}
