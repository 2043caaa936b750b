import ipaddr from 'ipaddr.js';
import { ApiError } from '../http/errors.js';

/**
 * What one API key may do (issue 13 §4): send through these entries only and, when set, only as these
 * From addresses or domains and only from these source ranges.
 */
export interface ApiKeyScope {
  /** Entry ids the key may send through (at least one). */
  emailServerIds: string[];
  /** `noreply@contoso.com` (that address) or `contoso.com` (any address at the domain). Empty: any. */
  allowedFrom: string[];
  /** IP addresses or CIDR ranges (`203.0.113.0/24`, `2001:db8::/32`). Empty: any. */
  allowedSources: string[];
}

/** Reads the stored binding; `undefined` for keys made before bindings existed (unbound). */
export function parseScope(json: string | null): ApiKeyScope | undefined {
  if (!json) return undefined;
  const raw = JSON.parse(json) as Partial<ApiKeyScope>;
  return {
    emailServerIds: raw.emailServerIds ?? [],
    allowedFrom: raw.allowedFrom ?? [],
    allowedSources: raw.allowedSources ?? [],
  };
}

/** Problem with one `allowedFrom` entry, or undefined. */
export function fromPatternProblem(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) || /^@?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(v)) return undefined;
  return 'must be an address (noreply@contoso.com) or a domain (contoso.com)';
}

/** Problem with one `allowedSources` entry, or undefined. */
export function sourceRangeProblem(value: string): string | undefined {
  try {
    if (value.includes('/')) ipaddr.parseCIDR(value);
    else if (!ipaddr.isValid(value)) throw new Error('invalid');
    return undefined;
  } catch {
    return 'must be an IP address or CIDR range, e.g. 203.0.113.0/24 or 2001:db8::/32';
  }
}

// An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d; compare it as IPv4.
const parseClient = (ip: string) => ipaddr.process(ip.replace(/%.*$/, ''));

function sourceAllowed(ip: string | undefined, ranges: readonly string[]): boolean {
  if (!ip || !ipaddr.isValid(ip.replace(/%.*$/, ''))) return false;
  const client = parseClient(ip);
  return ranges.some((range) => {
    const [net, bits] = range.includes('/')
      ? ipaddr.parseCIDR(range)
      : ([ipaddr.process(range), range.includes(':') ? 128 : 32] as const);
    const norm =
      net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress()
        ? (net as ipaddr.IPv6).toIPv4Address()
        : net;
    return client.kind() === norm.kind() && client.match(norm, norm.kind() === net.kind() ? bits : bits - 96);
  });
}

function fromAllowed(from: string, patterns: readonly string[]): boolean {
  const address = from.trim().toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return patterns.some((p) => {
    const v = p.trim().toLowerCase().replace(/^@/, '');
    return v.includes('@') ? v === address : v === domain;
  });
}

/** The address of a From value as an application sends it: `a@b`, `Name <a@b>` or `{ address }`. */
export function fromAddressOf(value: unknown): string | undefined {
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { address?: unknown }).address === 'string'
  )
    return (value as { address: string }).address;
  if (typeof value !== 'string') return undefined;
  return /<([^<>]+)>\s*$/.exec(value)?.[1] ?? value;
}

/**
 * Refuses a send the key's binding does not cover, with a 403 naming the binding (issue 13 §4).
 * Unbound keys (made before bindings existed) pass.
 *
 * @param request.from the message's From, or the entry's default From when the message has none
 * @throws ApiError 403 `API_KEY_SCOPE` with an issue on `server`, `from` or the source address.
 */
export function assertApiKeyScope(
  key: { id: string; name: string; scope: ApiKeyScope | undefined },
  request: { entry: { id: string; name: string }; from: string | undefined; ip: string | undefined },
): void {
  const scope = key.scope;
  if (!scope) return;
  const deny = (path: string, message: string, binding: string) =>
    new ApiError(403, 'API_KEY_SCOPE', `API key "${key.name}" is not allowed: ${message}`, {
      hint: `The key is bound to ${binding}; change its binding under API keys in the admin UI, or use a key bound to this`,
      issues: [{ path, message }],
    });
  if (!scope.emailServerIds.includes(request.entry.id))
    throw deny(
      'server',
      `it may not send through "${request.entry.name}"`,
      scope.emailServerIds.length ? `entries ${scope.emailServerIds.join(', ')}` : 'no entry',
    );
  if (scope.allowedFrom.length > 0 && !(request.from && fromAllowed(request.from, scope.allowedFrom)))
    throw deny(
      'from',
      `it may not send as ${request.from ?? '(no From)'}`,
      `From ${scope.allowedFrom.join(', ')}`,
    );
  if (scope.allowedSources.length > 0 && !sourceAllowed(request.ip, scope.allowedSources))
    throw deny(
      '(source address)',
      `requests from ${request.ip ?? 'this address'} are not allowed`,
      `sources ${scope.allowedSources.join(', ')}`,
    );
}
