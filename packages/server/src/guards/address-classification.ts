import { BlockList, isIP } from 'node:net';

/** Why an address is not a public unicast destination. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'ipv4-mapped'
  | 'shared'
  | 'multicast'
  | 'reserved'
  | 'invalid';

const v4 = (entries: [string, number][]) => {
  const list = new BlockList();
  for (const [net, prefix] of entries) list.addSubnet(net, prefix, 'ipv4');
  return list;
};
const v6 = (entries: [string, number][]) => {
  const list = new BlockList();
  for (const [net, prefix] of entries) list.addSubnet(net, prefix, 'ipv6');
  return list;
};

// Ordered: the first matching class names the reason in the error.
const IPV4: [AddressClass, BlockList][] = [
  [
    'metadata',
    v4([
      ['169.254.169.254', 32],
      ['169.254.170.2', 32],
      ['100.100.100.200', 32],
    ]),
  ],
  ['unspecified', v4([['0.0.0.0', 8]])],
  ['loopback', v4([['127.0.0.0', 8]])],
  [
    'private',
    v4([
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ]),
  ],
  ['link-local', v4([['169.254.0.0', 16]])],
  ['shared', v4([['100.64.0.0', 10]])],
  ['multicast', v4([['224.0.0.0', 4]])],
  [
    'reserved',
    v4([
      ['192.0.0.0', 24],
      ['192.0.2.0', 24],
      ['198.18.0.0', 15],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
      ['240.0.0.0', 4],
    ]),
  ],
];

const IPV6: [AddressClass, BlockList][] = [
  ['metadata', v6([['fd00:ec2::254', 128]])],
  ['unspecified', v6([['::', 128]])],
  ['loopback', v6([['::1', 128]])],
  // IPv4-mapped/-compatible and NAT64/6to4 forms can smuggle any IPv4 destination.
  [
    'ipv4-mapped',
    v6([
      ['::ffff:0:0', 96],
      ['::', 96],
      ['64:ff9b::', 96],
      ['64:ff9b:1::', 48],
      ['2002::', 16],
    ]),
  ],
  ['private', v6([['fc00::', 7]])],
  ['link-local', v6([['fe80::', 10]])],
  ['multicast', v6([['ff00::', 8]])],
  [
    'reserved',
    v6([
      ['2001:db8::', 32],
      ['100::', 64],
      ['2001::', 23],
    ]),
  ],
];

/**
 * Classifies an IP literal for outbound-connection policy (S6). Anything but `public` is refused
 * for SMTP unless the operator allows private destinations.
 */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) {
    for (const [cls, list] of IPV4) if (list.check(bare, 'ipv4')) return cls;
    return 'public';
  }
  if (family === 6) {
    for (const [cls, list] of IPV6) if (list.check(bare, 'ipv6')) return cls;
    return 'public';
  }
  return 'invalid';
}
