import { expect, it } from 'vitest';

it('pins the public export list', async () => {
  expect(Object.keys(await import('../src/index.js')).sort()).toMatchInlineSnapshot(`
    [
      "ApiError",
      "DEFAULT_TOKEN_HOSTS",
      "ServerError",
      "classifyAddress",
      "createJsonLogger",
      "createKeyRing",
      "createServer",
      "decryptSecret",
      "defaultAdminUiDir",
      "encryptSecret",
      "generateDevicePassword",
      "generateKek",
      "loadOrCreateKeyFile",
      "loadSettings",
      "openStore",
      "parseKeyRing",
      "reencryptAll",
      "relaySettings",
      "silentLogger",
      "startStandaloneRelay",
    ]
  `);
});
