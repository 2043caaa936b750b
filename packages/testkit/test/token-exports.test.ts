import { describe, expect, it } from 'vitest';

describe('public API of my entry points', () => {
  it('@org/testkit/token exports', async () => {
    expect(Object.keys(await import('../src/token/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "createCaTrustingNetworkClient",
        "createTokenServer",
      ]
    `);
  });

  it('src/exchange exports (re-exported by the root barrel)', async () => {
    expect(Object.keys(await import('../src/exchange/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "DEFAULT_EXCHANGE_AUDIENCES",
        "createExchangeAuthorizer",
        "createRemoteKeyGetter",
      ]
    `);
  });
});
