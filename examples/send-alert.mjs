import { createMailer, loadConfigFile } from '@org/core';

// The entry lives in a file; its secret is a reference such as `env:SMTP_OAUTH_CLIENT_SECRET`,
// resolved from the environment you pass in (the library itself never reads process.env).
const { servers } = await loadConfigFile('smtp-oauth.config.yaml', { env: process.env });
const mailer = createMailer(servers[0]);
try {
  const result = await mailer.send({
    to: 'ops@contoso.com',
    subject: 'Disk almost full',
    text: 'sda1 is at 91%.',
  });
  console.log(`sent ${result.messageId}: ${result.response}`);
} catch (error) {
  // Every failure is a typed error with a stable code and a hint that names the fix.
  console.error(`${error.code}: ${error.message}\n${error.hint ?? ''}`);
  process.exitCode = 1;
} finally {
  await mailer.close();
}
