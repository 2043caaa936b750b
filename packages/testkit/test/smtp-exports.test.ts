import { expect, it } from 'vitest';

it('pins the @org/testkit/smtp runtime exports', async () => {
  expect(Object.keys(await import('../src/smtp/index.js')).sort()).toMatchInlineSnapshot(`
    [
      "EXCHANGE_FAULT_REPLIES",
      "SmtpServerError",
      "createSmtpServer",
    ]
  `);
});
