import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ServerError } from '../errors.js';
import { type AddressClass, classifyAddress } from '../guards/address-classification.js';
import type { ResolveHost } from '../guards/outbound.js';
import { ApiError } from '../http/errors.js';

/**
 * Where webhooks may be posted: the SSRF rules of S6 (SMTP hosts) applied to an operator-chosen
 * URL an admin types in. Without the operator's say, only https to public addresses.
 */
export interface WebhookTargetPolicy {
  /** Allow `http:` URLs (a receiver on a trusted network). @default false: https only */
  allowHttp: boolean;
  /** Allow loopback/private/link-local destinations. @default false */
  allowPrivate: boolean;
  /** Exact addresses allowed despite their class (e.g. an internal receiver). */
  allowedAddresses: ReadonlySet<string>;
  resolve: ResolveHost;
}

/** A checked target: the URL and the addresses it may be connected to (pinned: no DNS-rebinding gap). */
export interface WebhookTarget {
  url: URL;
  addresses: string[];
}

const MAX_URL_LENGTH = 2000;

/**
 * Checks a webhook URL: parseable, `https:` (or `http:` when the operator allows it), no user name
 * or password, and every address its host resolves to public — unless the operator allows private
 * destinations or that address. Run when the URL is set (a 400 naming `field`) and again before
 * every delivery (DNS may have changed since).
 *
 * @throws ApiError 400 `WEBHOOK_URL_INVALID`, `WEBHOOK_URL_NOT_ALLOWED` or `WEBHOOK_URL_UNRESOLVABLE`,
 *   with an issue at `field`
 */
export async function checkWebhookTarget(
  value: string,
  field: string,
  policy: WebhookTargetPolicy,
): Promise<WebhookTarget> {
  const refuse = (code: string, message: string, hint: string) =>
    new ApiError(400, code, `${field}: ${message}`, { hint, issues: [{ path: field, message }] });
  let url: URL;
  try {
    if (value.length > MAX_URL_LENGTH) throw new Error('too long');
    url = new URL(value);
  } catch {
    throw refuse(
      'WEBHOOK_URL_INVALID',
      `is not a valid URL (at most ${MAX_URL_LENGTH} characters)`,
      'Use an absolute https URL, e.g. https://app.example.com/hooks/mail',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw refuse(
      'WEBHOOK_URL_INVALID',
      url.protocol === 'http:' ? 'must use https' : `must use https, not ${url.protocol.replace(/:$/, '')}`,
      url.protocol === 'http:'
        ? 'Events carry message outcomes: use https. The operator can allow http with WEBHOOK_ALLOW_HTTP=true'
        : 'Use an https URL',
    );
  if (url.username || url.password)
    throw refuse(
      'WEBHOOK_URL_INVALID',
      'must not contain a user name or password',
      'Remove the user@ part; every event is signed with the webhook secret instead',
    );
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await policy.resolve(host.toLowerCase().replace(/\.$/, ''));
    } catch {
      addresses = [];
    }
    if (addresses.length === 0)
      throw refuse(
        'WEBHOOK_URL_UNRESOLVABLE',
        `host ${host} could not be resolved`,
        'Check the host name and DNS',
      );
  }
  if (!policy.allowPrivate)
    for (const address of addresses) {
      const cls: AddressClass = classifyAddress(address);
      if (cls !== 'public' && !policy.allowedAddresses.has(address))
        throw refuse(
          'WEBHOOK_URL_NOT_ALLOWED',
          `${host} resolves to ${address}, a ${cls} address`,
          'Webhooks go to public addresses only; the operator can allow private targets with WEBHOOK_ALLOW_PRIVATE_TARGETS=true',
        );
    }
  return { url, addresses };
}

/** Why a delivery attempt failed, with a stable code (recorded per delivery and per key). */
export class WebhookDeliveryError extends ServerError {
  /** The receiver's HTTP status, when it answered. */
  readonly httpStatus: number | undefined;
  constructor(
    code: string,
    message: string,
    options: { hint?: string; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = 'WebhookDeliveryError';
    this.httpStatus = options.httpStatus;
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

function mapRequestError(error: unknown): WebhookDeliveryError {
  if (error instanceof WebhookDeliveryError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  if (code === 'ETIMEDOUT')
    return new WebhookDeliveryError('WEBHOOK_TIMEOUT', 'The receiver did not answer in time', {
      cause: error,
    });
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return new WebhookDeliveryError('WEBHOOK_TLS_FAILED', `TLS with the receiver failed (${code})`, {
      hint: 'The receiver needs a certificate trusted by this server',
      cause: error,
    });
  if (CONNECT_CODES.has(code))
    return new WebhookDeliveryError('WEBHOOK_CONNECT_FAILED', `Cannot reach the receiver (${code})`, {
      cause: error,
    });
  return new WebhookDeliveryError('WEBHOOK_CONNECT_FAILED', 'The request to the receiver failed', {
    cause: error,
  });
}

/**
 * POSTs one signed event to a checked target, connecting only to the checked address (the host name
 * still goes in `Host` and the TLS server name). Redirects are not followed: a 3xx is a failed attempt.
 * Resolves with the status of a 2xx answer; the answer's body is not read into memory.
 *
 * @throws WebhookDeliveryError `WEBHOOK_HTTP_STATUS` (non-2xx), `WEBHOOK_REDIRECT_NOT_FOLLOWED`,
 *   `WEBHOOK_TIMEOUT`, `WEBHOOK_TLS_FAILED`, `WEBHOOK_CONNECT_FAILED`
 */
export function postToTarget(
  target: WebhookTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const address = target.addresses[0] as string;
  const family = isIP(address);
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    else callback(null, address, family);
  };
  const https = target.url.protocol === 'https:';
  return new Promise<number>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)({
      method: 'POST',
      hostname: host,
      port: target.url.port || (https ? 443 : 80),
      path: `${target.url.pathname}${target.url.search}`,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned,
      agent: false,
      ...(https && !isIP(host) ? { servername: host } : {}),
    });
    const timer = setTimeout(
      () =>
        req.destroy(
          new WebhookDeliveryError('WEBHOOK_TIMEOUT', `The receiver did not answer within ${timeoutMs} ms`, {
            hint: 'Answer 2xx at once and process the event afterwards',
          }),
        ),
      timeoutMs,
    );
    req.on('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      // The body is the receiver's business; drain and drop it.
      res.resume();
      res.on('error', () => {});
      if (status >= 200 && status < 300) return resolve(status);
      if (status >= 300 && status < 400)
        return reject(
          new WebhookDeliveryError(
            'WEBHOOK_REDIRECT_NOT_FOLLOWED',
            `The receiver answered ${status} (a redirect)`,
            {
              hint: 'Redirects are not followed; set the final URL as the webhook URL',
              httpStatus: status,
            },
          ),
        );
      reject(
        new WebhookDeliveryError('WEBHOOK_HTTP_STATUS', `The receiver answered ${status}`, {
          hint: 'Any 2xx answer counts as delivered; other answers are retried with backoff',
          httpStatus: status,
        }),
      );
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(mapRequestError(error));
    });
    req.end(body);
  });
}
