// Pins the public API of @org/testkit's root entry: any change shows up in review.
import { expect, it } from 'vitest';

it('@org/testkit exports', async () => {
  expect(Object.keys(await import('../src/index.js')).sort()).toMatchInlineSnapshot(`
    [
      "APPLICATION_SMTP_SEND_AS_APP",
      "DEFAULT_EXCHANGE_AUDIENCES",
      "DirectoryError",
      "EXCHANGE_FAULT_REPLIES",
      "EXCHANGE_RESOURCES",
      "EXCHANGE_SCOPE",
      "SMTP_SEND_AS_APP",
      "SmtpServerError",
      "createCaTrustingNetworkClient",
      "createCertificateAuthority",
      "createClientCertificate",
      "createClock",
      "createDirectory",
      "createExchangeAuthorizer",
      "createInspectServer",
      "createRemoteKeyGetter",
      "createSmtpServer",
      "createTestEnvironment",
      "createTokenServer",
      "epochSeconds",
      "hasFullAccess",
      "maySendAs",
      "parseRecipientFilter",
      "smtpAuthEnabledFor",
      "startSandbox",
      "thumbprints",
    ]
  `);
});
