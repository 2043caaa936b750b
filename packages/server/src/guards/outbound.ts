import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ApiError } from '../http/errors.js';
import { type AddressClass, classifyAddress } from './address-classification.js';
import { tokenUrlRefusal } from './token-url.js';

/** Microsoft identity platform hosts (global, US Government, China) — the default allow-list (S5). */
export const DEFAULT_TOKEN_HOSTS = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
] as const;

/** Resolves a host name to its addresses. A seam so tests need no DNS. */
export type ResolveHost = (host: string) => Promise<string[]>;

export const defaultResolveHost: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** Where token requests may go (S5). */
export interface TokenEndpointPolicy {
  /** Host names allowed on any port (Microsoft's clouds and the operator's list). */
  hosts: ReadonlySet<string>;
  /** Exact `https://host:port` origins (sandbox mode: the testkit's token endpoint, and only it). */
  origins: ReadonlySet<string>;
}

/**
 * S5: the token endpoint must be https, carry no userinfo, and its host must be on the operator's
 * allow-list (exact match — `login.microsoftonline.com.evil.tld` is a different host). Throws a 400
 * naming `field`.
 */
export function assertTokenEndpointAllowed(value: string, field: string, policy: TokenEndpointPolicy): void {
  const refuse = (message: string, hint: string) =>
    new ApiError(400, 'TOKEN_ENDPOINT_NOT_ALLOWED', `${field}: ${message}`, {
      hint,
      issues: [{ path: field, message }],
    });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('is not a valid URL', 'Use https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token');
  }
  // One rule for the configured endpoint and every URL the token client contacts (token-url.ts).
  const refusal = tokenUrlRefusal(url, policy);
  if (refusal) throw refuse(refusal.message, refusal.hint);
}

/** Key of an allowed SMTP endpoint in {@link SmtpHostPolicy.allowedEndpoints}. */
export const endpointKey = (address: string, port: number) => `${address} ${port}`;

export interface SmtpHostPolicy {
  /** Allow every private/loopback/link-local destination (operator's choice). */
  allowPrivate: boolean;
  /** Exact addresses allowed despite their class, on any port (operator's choice). */
  allowedAddresses: ReadonlySet<string>;
  /** Exact `address port` pairs allowed despite their class (sandbox mode: the testkit's SMTP listener). */
  allowedEndpoints: ReadonlySet<string>;
  resolve: ResolveHost;
}

/**
 * S6: every address the SMTP host resolves to must be public, unless allowed. Returns the checked
 * addresses so the connection can be pinned to them (no DNS-rebinding gap). Throws a 400 naming `field`.
 */
export async function assertSmtpHostAllowed(
  host: string,
  port: number,
  field: string,
  policy: SmtpHostPolicy,
): Promise<string[]> {
  const refuse = (message: string, hint: string, code = 'SMTP_HOST_NOT_ALLOWED') =>
    new ApiError(400, code, `${field}: ${message}`, { hint, issues: [{ path: field, message }] });
  const bare = host.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(bare)) {
    addresses = [bare];
  } else {
    try {
      addresses = await policy.resolve(normaliseHost(bare));
    } catch {
      throw refuse(
        `host ${bare} could not be resolved`,
        'Check the host name and DNS',
        'SMTP_HOST_UNRESOLVABLE',
      );
    }
    if (addresses.length === 0) {
      throw refuse(
        `host ${bare} could not be resolved`,
        'Check the host name and DNS',
        'SMTP_HOST_UNRESOLVABLE',
      );
    }
  }
  if (policy.allowPrivate) return addresses;
  for (const address of addresses) {
    const cls: AddressClass = classifyAddress(address);
    if (
      cls !== 'public' &&
      !policy.allowedAddresses.has(address) &&
      !policy.allowedEndpoints.has(endpointKey(address, port))
    ) {
      throw refuse(
        `${bare} resolves to ${address}, a ${cls} address`,
        'Mail must go to a public SMTP server; the operator can allow private hosts with SMTP_ALLOW_PRIVATE_HOSTS=true',
      );
    }
  }
  return addresses;
}
