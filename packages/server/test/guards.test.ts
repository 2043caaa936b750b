import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../src/guards/address-classification.js';
import {
  assertSmtpHostAllowed,
  assertTokenEndpointAllowed,
  DEFAULT_TOKEN_HOSTS,
} from '../src/guards/outbound.js';

describe('address classification (S6)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.4.4', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['fd12::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'ipv4-mapped'],
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['64:ff9b::a00:1', 'ipv4-mapped'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.1', 'reserved'],
    ['52.96.0.10', 'public'],
    ['2603:1036::1', 'public'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'invalid'],
    // Regression (issue 13 §6): IPv4-translated loopback and metadata, and site-local, were accepted.
    ['::ffff:0:7f00:1', 'ipv4-mapped'],
    ['::ffff:0:a9fe:a9fe', 'ipv4-mapped'],
    ['fec0::1', 'site-local'],
    // Every other special-purpose range of the IANA registries (via ipaddr.js).
    ['64:ff9b:1::a00:1', 'ipv4-mapped'], // NAT64 local use (RFC 8215)
    ['2002:7f00:1::1', 'ipv4-mapped'], // 6to4 (RFC 3056)
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'ipv4-mapped'], // Teredo (RFC 4380)
    ['::7f00:1', 'reserved'], // IPv4-compatible (deprecated, RFC 4291)
    ['100::1', 'reserved'], // discard (RFC 6666)
    ['2001:2::1', 'reserved'], // benchmarking (RFC 5180)
    ['2001:db8::1', 'reserved'], // documentation (RFC 3849)
    ['3fff::1', 'reserved'], // documentation (RFC 9637)
    ['2001:20::1', 'reserved'], // ORCHIDv2 (RFC 7343)
    ['5f00::1', 'reserved'], // SRv6 SIDs (RFC 9602)
    ['4000::1', 'reserved'], // outside 2000::/3
    ['255.255.255.255', 'reserved'], // limited broadcast
    ['192.0.0.8', 'reserved'], // IETF protocol assignments (RFC 6890)
    ['192.88.99.1', 'reserved'], // 6to4 relay anycast (RFC 7526)
    ['198.18.0.1', 'reserved'], // benchmarking (RFC 2544)
    ['192.31.196.1', 'reserved'], // AS112 (RFC 7535)
    ['192.52.193.1', 'reserved'], // AMT (RFC 7450)
    ['240.0.0.1', 'reserved'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.1.2.3', 'unspecified'],
  ])('%s → %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('outbound guards', () => {
  const hosts = { hosts: new Set<string>(DEFAULT_TOKEN_HOSTS), origins: new Set<string>() };
  it('token endpoint: Microsoft hosts pass; trailing dots and case are normalised', () => {
    expect(() =>
      assertTokenEndpointAllowed('https://LOGIN.microsoftonline.com./t/oauth2/v2.0/token', 'f', hosts),
    ).not.toThrow();
    expect(() =>
      assertTokenEndpointAllowed('https://login.microsoftonline.com:8443/t', 'f', hosts),
    ).not.toThrow();
    for (const bad of [
      'ftp://login.microsoftonline.com/x',
      'https://:p@login.microsoftonline.com/x',
      'nonsense',
      'https://microsoftonline.com/x',
    ]) {
      expect(() => assertTokenEndpointAllowed(bad, 'auth.tokenEndpoint', hosts)).toThrowError(
        expect.objectContaining({
          status: 400,
          issues: [expect.objectContaining({ path: 'auth.tokenEndpoint' })],
        }),
      );
    }
  });

  it('SMTP host: every resolved address is checked; failures to resolve are 400s', async () => {
    const policy = (addrs: string[] | Error) => ({
      allowPrivate: false,
      allowedAddresses: new Set<string>(),
      allowedEndpoints: new Set<string>(),
      resolve: async () => {
        if (addrs instanceof Error) throw addrs;
        return addrs;
      },
    });
    await expect(assertSmtpHostAllowed('smtp.example', 587, 'host', policy(['52.96.0.1']))).resolves.toEqual([
      '52.96.0.1',
    ]);
    await expect(
      assertSmtpHostAllowed('smtp.example', 587, 'host', policy(['52.96.0.1', '::1'])),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      assertSmtpHostAllowed('smtp.example', 587, 'host', policy(new Error('ENOTFOUND'))),
    ).rejects.toMatchObject({
      code: 'SMTP_HOST_UNRESOLVABLE',
    });
    await expect(
      assertSmtpHostAllowed('[::1]', 587, 'host', { ...policy([]), allowedAddresses: new Set(['::1']) }),
    ).resolves.toEqual(['::1']);
  });

  it('sandbox allowances are exact: one token origin, one SMTP address and port', async () => {
    const sandboxTokens = {
      hosts: new Set<string>(DEFAULT_TOKEN_HOSTS),
      origins: new Set(['https://127.0.0.1:4443']),
    };
    expect(() =>
      assertTokenEndpointAllowed('https://127.0.0.1:4443/t/oauth2/v2.0/token', 'f', sandboxTokens),
    ).not.toThrow();
    for (const other of ['https://127.0.0.1:4444/t', 'https://localhost:4443/t', 'http://127.0.0.1:4443/t'])
      expect(() => assertTokenEndpointAllowed(other, 'f', sandboxTokens)).toThrow();
    const smtp = {
      allowPrivate: false,
      allowedAddresses: new Set<string>(),
      allowedEndpoints: new Set(['127.0.0.1 2525']),
      resolve: async () => ['127.0.0.1'],
    };
    await expect(assertSmtpHostAllowed('127.0.0.1', 2525, 'host', smtp)).resolves.toEqual(['127.0.0.1']);
    await expect(assertSmtpHostAllowed('127.0.0.1', 25, 'host', smtp)).rejects.toMatchObject({ status: 400 });
    await expect(assertSmtpHostAllowed('::1', 2525, 'host', smtp)).rejects.toMatchObject({ status: 400 });
  });
});
