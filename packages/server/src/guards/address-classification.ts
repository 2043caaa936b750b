import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why an address is not a public unicast destination. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'site-local'
  | 'metadata'
  | 'ipv4-mapped'
  | 'shared'
  | 'multicast'
  | 'reserved'
  | 'invalid';

// Cloud instance-metadata endpoints (AWS, ECS, Alibaba, AWS IPv6): named apart from link-local so the
// refusal says what it would have reached.
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);

/**
 * ipaddr.js range names (which follow the IANA IPv4 and IPv6 special-purpose address registries) →
 * our classes. A range name this table does not know (a newer ipaddr.js) is `reserved`: fail closed.
 */
const CLASS_OF_RANGE: Record<string, AddressClass> = {
  // IPv4
  unspecified: 'unspecified',
  broadcast: 'reserved',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'shared',
  private: 'private',
  reserved: 'reserved',
  as112: 'reserved',
  amt: 'reserved',
  // IPv6
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'site-local',
  // Forms that carry an IPv4 destination inside an IPv6 address (mapped, translated, NAT64, 6to4,
  // Teredo): each could reach any IPv4 address, private ones included.
  ipv4Mapped: 'ipv4-mapped',
  rfc6145: 'ipv4-mapped',
  rfc6052: 'ipv4-mapped',
  '6to4': 'ipv4-mapped',
  teredo: 'ipv4-mapped',
  discard: 'reserved',
  benchmarking: 'reserved',
  as112v6: 'reserved',
  deprecatedOrchid: 'reserved',
  orchid2: 'reserved',
  droneRemoteIdProtocolEntityTags: 'reserved',
  segmentRouting: 'reserved',
};

// IANA IPv6 address space: only 2000::/3 is allocated as global unicast; everything else ipaddr.js
// calls "unicast" (::/8 with the deprecated IPv4-compatible ::a.b.c.d, 4000::/3 …) is reserved.
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * Classifies an IP literal for outbound-connection policy (S6) with ipaddr.js's ranges, which follow
 * the IANA special-purpose registries. Anything but `public` is refused for SMTP unless the operator
 * allows private destinations.
 */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  // node's parser is strict (no 0x7f.1 or 127.1 shorthands): anything it refuses is not an address.
  if (isIP(bare) === 0) return 'invalid';
  const parsed = ipaddr.parse(bare);
  if (METADATA.has(parsed.toNormalizedString()) || METADATA.has(parsed.toString())) return 'metadata';
  const range = parsed.range();
  if (range === 'unicast') {
    if (parsed.kind() === 'ipv4') return 'public';
    return (parsed as ipaddr.IPv6).match(GLOBAL_UNICAST) ? 'public' : 'reserved';
  }
  return CLASS_OF_RANGE[range] ?? 'reserved';
}
