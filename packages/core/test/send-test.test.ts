import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnose } from '../src/doctor/index.js';
import { createMailer } from '../src/mailer/index.js';
import { sendTest } from '../src/mailer/send-test.js';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const message = (to: string) => ({ to, subject: 'smtp-oauth test message', text: 'test' });
const firstFailure = (steps: { status: string; id: string; causes?: string[]; fix?: unknown }[]) =>
  steps.find((s) => s.status === 'fail');

describe('sendTest: a new token and a new connection, the doctor’s verdict on failure', () => {
  it('sends and says what it covered', async () => {
    env = await createTestEnvironment();
    const result = await sendTest(env.config, message('someone@example.org'));
    expect(result.ok).toBe(true);
    expect(result.sent?.accepted).toEqual(['someone@example.org']);
    expect(result.covered).toEqual(['dns', 'tcp', 'tls', 'ehlo', 'token', 'auth', 'mail', 'message']);
    expect(Date.parse(result.at)).not.toBeNaN();
    const arrived = await env.waitForMessage((m) => m.envelope.rcptTo.includes('someone@example.org'));
    expect(arrived.identity.appId).toBe(env.clientId);
  });

  // Regression: a test send reused a pooled connection that had authenticated before admin consent
  // was revoked, and said "Sent" while the doctor failed.
  it('revoked admin consent: fails although a pooled mailer authenticated earlier, with the doctor’s cause', async () => {
    env = await createTestEnvironment();
    const pooled = createMailer(env.config, { retry: false });
    try {
      await pooled.send(message('warm@example.org'));
      env.directory.revokeAdminConsent(env.clientId);
      // The hazard: the pooled connection is still authenticated and the cached token still valid.
      await expect(pooled.send(message('still@example.org'))).resolves.toMatchObject({
        accepted: ['still@example.org'],
      });
      const result = await sendTest(env.config, message('someone@example.org'));
      expect(result.ok).toBe(false);
      const doctor = await diagnose(env.config);
      const expected = firstFailure(doctor.steps);
      expect(expected).toBeDefined();
      expect(result.failedStep?.id).toBe(expected?.id);
      expect(result.failedStep?.cause).toBe(expected?.causes?.[0]);
      expect(result.failedStep?.fix).toEqual(expected?.fix);
      expect(result.error?.code).toMatch(/^SMTP_|^TOKEN_/);
      expect(JSON.stringify(result)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
      expect(JSON.stringify(result)).not.toContain(env.clientSecret);
    } finally {
      await pooled.close();
    }
  });

  // Regression: after the service principal was removed, the test send named a mailbox permission
  // (430) while the doctor said to register the service principal.
  it('removed service principal: the same fix as the doctor', async () => {
    env = await createTestEnvironment();
    env.directory.removeServicePrincipal(env.servicePrincipal.objectId);
    const result = await sendTest(env.config, message('someone@example.org'));
    expect(result.ok).toBe(false);
    const expected = firstFailure((await diagnose(env.config)).steps);
    expect(result.failedStep?.id).toBe(expected?.id);
    expect(result.failedStep?.fix).toEqual(expected?.fix);
    expect(result.summary).toMatch(/failed/);
  });

  it('a missing mailbox permission (seen only at end of DATA) keeps the send’s own code and hint', async () => {
    env = await createTestEnvironment();
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.objectId);
    const result = await sendTest(env.config, message('someone@example.org'), { explain: false });
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('SMTP_MAILBOX_LOGON_FAILED');
    expect(result.error?.hint).toMatch(/Add-MailboxPermission/);
  });

  it('refuses an invalid message before any connection', async () => {
    env = await createTestEnvironment();
    await expect(
      sendTest(env.config, { to: 'x\r\nBcc: a@b.c', subject: 's', text: 't' }),
    ).rejects.toMatchObject({
      code: 'MESSAGE_HEADER_INJECTION',
    });
  });
});
