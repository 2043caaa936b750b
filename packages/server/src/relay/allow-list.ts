import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * An IP allow-list: single addresses (`192.0.2.7`, `2001:db8::1`) and CIDR ranges
 * (`192.0.2.0/24`). IPv4-mapped IPv6 peers (`::ffff:192.0.2.7`, what a dual-stack socket reports)
 * match their IPv4 entries.
 */
export interface AllowList {
  readonly entries: readonly string[];
  matches(address: string): boolean;
}

/** Why an entry is not an address or range; undefined when it is. */
export function allowListEntryProblem(entry: string): string | undefined {
  try {
    parseEntry(entry);
    return undefined;
  } catch {
    return `"${entry.slice(0, 60)}" is not an IP address or CIDR range (e.g. 192.0.2.10 or 192.0.2.0/24)`;
  }
}

function parseEntry(entry: string): Range {
  const text = entry.trim();
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.process(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** @throws Error naming the first invalid entry (validate with {@link allowListEntryProblem} first). */
export function parseAllowList(entries: readonly string[]): AllowList {
  const ranges = entries.map((e) => {
    const [address, bits] = parseEntry(e);
    // A range written in mapped form (::ffff:10.0.0.0/104) is its IPv4 range.
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
      return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96] as Range;
    return [address, bits] as Range;
  });
  return {
    entries,
    matches(peer) {
      let address: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        address = ipaddr.process(peer);
      } catch {
        return false;
      }
      return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
    },
  };
}

/** Loopback peers (127.0.0.0/8, ::1, and their mapped forms). */
export function isLoopback(peer: string): boolean {
  try {
    return ipaddr.process(peer).range() === 'loopback';
  } catch {
    return false;
  }
}
