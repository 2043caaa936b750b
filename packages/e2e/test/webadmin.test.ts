/**
 * The WebAdmin in a real Chromium against the real server, with the testkit as Microsoft: the setup
 * an admin does on the first day, then the failure they meet when a permission is missing.
 * Screenshots of each screen land in test-results/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;
/** Operations the server documents in /api/openapi.json, e.g. `post /api/email-servers/{id}/diagnose`. */
let operations: Set<string>;
/** Path of the secret entry's page, e.g. /servers/abc. */
let secretEntryUrl = '';
/** Path of the PEM certificate entry's page. */
let certificateEntryUrl = '';
/** Console errors and CSP violations seen by the main page: the UI must run under the server's CSP. */
const consoleErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  const doc = (await (await fetch(`${stack.baseUrl}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  operations = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
  );
  ({ page } = await stack.newPage());
  page.on('console', (message) => {
    // API 4xx answers (401 before sign-in, 400 for a refused entry) are expected; the browser logs
    // them as failed loads. Anything else (CSP violations, exceptions) is a defect.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()))
      consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
});

afterEach(async ({ task }) => {
  // A failed step leaves a picture of what the admin would have seen.
  if (task.result?.state === 'fail' && page) {
    const slug = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    await screenshot(page, `failed-${slug}`).catch(() => undefined);
  }
});

afterAll(async () => {
  await stack?.close();
});

/** A PKCS#12 file of the testkit's certificate, made with openssl; undefined when openssl is absent. */
function makePfx(certPem: string, keyPem: string, passphrase: string): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-pfx-'));
  try {
    writeFileSync(join(dir, 'cert.pem'), certPem);
    writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    execFileSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-in',
        'cert.pem',
        '-inkey',
        'key.pem',
        '-out',
        'out.pfx',
        '-passout',
        `pass:${passphrase}`,
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    return readFileSync(join(dir, 'out.pfx'));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the advanced TLS field: the testkit's SMTP certificate chains to its own CA. */
async function trustTestkitCa(p: Page) {
  await p.getByText('Advanced').click();
  await p.getByLabel('Trusted CA certificate (PEM)').fill(stack.env.caPem);
}

/** The testkit serves Microsoft on 127.0.0.1: point the preset-filled endpoint and server there. */
async function pointAtTestkit(p: Page) {
  await p.getByLabel('Token endpoint').fill(stack.env.tokenEndpoint);
  await p.getByLabel('SMTP server').fill(stack.env.smtp.host);
  await p.getByLabel('Port').fill(String(stack.env.smtp.port));
  await trustTestkitCa(p);
}

describe('WebAdmin end to end', () => {
  it('refuses a wrong password, then signs in', async () => {
    await page.goto('/');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Email').fill('admin@example.test');
    await page.getByLabel('Password').fill(`${ADMIN_PASSWORD}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Wrong email or password').first().waitFor();
    await screenshot(page, '01-sign-in-error');
    await signIn(page);
    await page.getByText('No email servers yet').waitFor();
    await screenshot(page, '02-servers-empty');
  });

  it('Microsoft 365 preset: the tenant fills endpoint, server, port, STARTTLS and scope; core’s rules show inline', async () => {
    await page.getByRole('link', { name: 'Add email server' }).first().click();
    await page.getByRole('heading', { name: 'New email server' }).waitFor();
    await page.getByLabel('Tenant').fill(stack.env.tenantDomain);
    expect(await page.getByLabel('Token endpoint').inputValue()).toBe(
      `https://login.microsoftonline.com/${stack.env.tenantDomain}/oauth2/v2.0/token`,
    );
    expect(await page.getByLabel('SMTP server').inputValue()).toBe('smtp-mail.outlook.com');
    expect(await page.getByLabel('Port').inputValue()).toBe('587');
    expect(await page.getByLabel('Encryption').inputValue()).toBe('starttls');
    expect(await page.getByLabel('Scope').inputValue()).toBe('https://outlook.office365.com/.default');

    // National cloud: GCC High swaps every Microsoft value.
    await page.getByLabel('Microsoft 365 US Government (GCC High)').check();
    expect(await page.getByLabel('Token endpoint').inputValue()).toContain(
      'https://login.microsoftonline.us/',
    );
    expect(await page.getByLabel('Scope').inputValue()).toBe('https://outlook.office365.us/.default');
    await page.getByLabel('Microsoft 365', { exact: true }).check();

    // Core's schema speaks: a client id that is not a GUID, the secret's ID instead of its Value.
    await page.getByLabel('Client ID').fill('my-app');
    await page.getByLabel('Client ID').blur();
    await page.getByText(/Client ID must be the Application \(client\) ID, a GUID/).waitFor();
    await page.getByLabel(/^Client secret/).fill(stack.env.clientSecretId);
    await page.getByLabel(/^Client secret/).blur();
    await page.getByText(/looks like the secret's ID/).waitFor();

    // Password on a Microsoft host: the deprecation warning.
    await page.getByLabel('Password (legacy)').check();
    await page.getByText('Password authentication is deprecated').waitFor();
    await screenshot(page, '03-editor-password-warning');
    await page.getByLabel('OAuth2 (client credentials)').check();

    await page.getByRole('button', { name: 'Create email server' }).click();
    await page.locator('#editor-summary').waitFor();
    await screenshot(page, '04-editor-validation');
  });

  it('creates the entry with a client secret; the secret is write-only', async () => {
    await page.getByLabel(/^Name/).fill('Contoso M365');
    await page.getByLabel('User (mailbox)').fill(stack.env.mailbox);
    await page.getByLabel('Client ID').fill(stack.env.clientId);
    await page.getByLabel(/^Client secret/).fill(stack.env.clientSecret);
    await pointAtTestkit(page);
    await screenshot(page, '05-editor-filled');
    await page.getByRole('button', { name: 'Create email server' }).click();
    await page.getByRole('heading', { name: 'Contoso M365' }).waitFor();
    secretEntryUrl = new URL(page.url()).pathname;
    await page.getByText('Saved').first().waitFor();

    const html = await page.content();
    expect(html).not.toContain(stack.env.clientSecret);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByText('Client secret: set').waitFor();
    expect(await page.getByLabel(/^Client secret/).count()).toBe(0);
    await page.getByRole('button', { name: 'Replace secret' }).click();
    expect(await page.getByLabel(/^Client secret/).inputValue()).toBe('');
    await screenshot(page, '06-editor-secret-set');
    expect(await page.content()).not.toContain(stack.env.clientSecret);
    await page.goto(secretEntryUrl);
    await page.getByRole('heading', { name: 'Contoso M365' }).waitFor();
    await screenshot(page, '07-server-detail');
  });

  it('the server documents every action route the WebAdmin calls', () => {
    for (const route of ['test-token', 'diagnose', 'send-test'])
      expect(operations).toContain(`post /api/email-servers/{id}/${route}`);
  });

  it('tests the token: decoded claims with ✓ checks', async () => {
    await page.getByRole('button', { name: 'Test token' }).click();
    const result = page.getByTestId('token-result');
    await result.waitFor();
    await result.getByText('Token accepted by all checks').waitFor();
    expect(await result.locator('.mark--fail').count()).toBe(0);
    await result.getByText(/Decoded claims/).click();
    await result.getByText('SMTP.SendAsApp').first().waitFor();
    await screenshot(page, '08-token-test');
  });

  it('runs diagnostics: every step green', async () => {
    // With a recipient every step runs, up to the message Exchange accepts at the end of DATA.
    await page.getByLabel('Test recipient').fill('someone@example.org');
    await page.getByRole('button', { name: 'Run diagnostics' }).click();
    const result = page.getByTestId('diagnostics-result');
    await result.waitFor();
    await result.getByText(/All \d+ steps passed/).waitFor();
    expect(await result.locator('[data-status="fail"]').count()).toBe(0);
    await screenshot(page, '09-diagnostics-green');
  });

  it('sends a test email that arrives at the (fake) Exchange', async () => {
    await page.getByLabel('Test recipient').fill('someone@example.org');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page
      .getByTestId('send-result')
      .getByText(/Sent to/)
      .waitFor();
    const message = await stack.env.waitForMessage((m) => m.envelope.rcptTo.includes('someone@example.org'));
    expect(message.identity.appId).toBe(stack.env.clientId);
    await screenshot(page, '10-send-test');
  });

  // Regression: after consent was revoked, Send test email reused the pooled connection that had
  // authenticated for the test above and said "Sent" while Test token and Diagnostics failed.
  it('revoked admin consent: Send test email fails with the cause the diagnostics name', async () => {
    stack.env.directory.revokeAdminConsent(stack.env.clientId);
    try {
      await page.goto(secretEntryUrl);
      await page.getByLabel('Test recipient').fill('someone@example.org');
      await page.getByRole('button', { name: 'Send test email' }).click();
      const sent = page.getByTestId('send-result');
      await sent.getByText(/Not sent to someone@example\.org/).waitFor();
      expect(await sent.getByText(/^Sent to/).count()).toBe(0);
      const sendText = (await sent.textContent()) ?? '';
      const lastTest = page.getByTestId('last-test');
      await lastTest.locator('.badge--fail', { hasText: 'Failed' }).waitFor();
      await lastTest.getByText(/Test email/).waitFor();
      await screenshot(page, '10b-send-test-revoked-consent');

      await page.getByRole('button', { name: 'Run diagnostics' }).click();
      const result = page.getByTestId('diagnostics-result');
      await result.getByText(/Failed at:/).waitFor();
      const failing = result.locator('[data-status="fail"]').first();
      const title = ((await failing.locator('.step__title').textContent()) ?? '').trim();
      const cause = ((await failing.locator('li').first().textContent()) ?? '').trim();
      expect(sendText).toContain(`${title} failed`);
      expect(sendText).toContain(cause);
    } finally {
      stack.env.directory.grantAdminConsent(stack.env.clientId);
    }
  });

  it('a removed mailbox permission: diagnostics name the failing step and the Add-MailboxPermission command', async () => {
    stack.env.directory.removeMailboxPermission(stack.env.mailbox, stack.env.servicePrincipal.identity);
    stack.env.directory.removeMailboxPermission(stack.env.mailbox, stack.env.servicePrincipal.objectId);
    await page.goto(secretEntryUrl);
    await page.getByLabel('Test recipient').fill('someone@example.org');
    await page.getByRole('button', { name: 'Run diagnostics' }).click();
    const result = page.getByTestId('diagnostics-result');
    await result.getByText(/Failed at:/).waitFor();
    const failing = result.locator('[data-status="fail"]').first();
    const command = failing.locator('code', { hasText: 'Add-MailboxPermission' }).first();
    await command.waitFor();
    expect(await command.textContent()).toContain(stack.env.mailbox);
    await failing.getByRole('button', { name: /Copy/ }).first().click();
    await failing.getByText('Copied ✓').first().waitFor();
    await screenshot(page, '11-diagnostics-mailbox-permission');
    stack.env.directory.addMailboxPermission(stack.env.mailbox, stack.env.servicePrincipal.identity);
  });

  it('revoked admin consent: the token shows ✗ on roles, diagnostics link the consent page with the admin’s ids', async () => {
    stack.env.directory.revokeAdminConsent(stack.env.clientId);
    try {
      await page.goto(secretEntryUrl);
      await page.getByRole('button', { name: 'Test token' }).click();
      const token = page.getByTestId('token-result');
      await token.getByText(/checks failed/).waitFor();
      await token
        .locator('li', { has: page.locator('.mark--fail') })
        .getByText(/SMTP\.SendAsApp/)
        .first()
        .waitFor();
      await page.getByRole('button', { name: 'Run diagnostics' }).click();
      const result = page.getByTestId('diagnostics-result');
      await result.getByText(/Failed at:/).waitFor();
      const consent = result.getByRole('link', { name: 'Grant admin consent' }).first();
      const href = (await consent.getAttribute('href')) ?? '';
      expect(href).toContain(stack.env.tenantId);
      expect(href).toContain(`client_id=${stack.env.clientId}`);
      await screenshot(page, '11b-diagnostics-admin-consent');
    } finally {
      stack.env.directory.grantAdminConsent(stack.env.clientId);
    }
  });

  it('creates a certificate entry from a PEM upload and shows subject, thumbprints and expiry', async () => {
    const cert = stack.env.certificate;
    await page.goto('/servers/new');
    await page.getByLabel(/^Name/).fill('Contoso certificate');
    await page.getByLabel('Tenant').fill(stack.env.tenantId);
    await page.getByLabel('User (mailbox)').fill(stack.env.mailbox);
    await page.getByLabel('Client ID').fill(stack.env.clientId);
    await page.getByLabel('Use a certificate (PEM files)').check();
    await page.getByLabel(/^Certificate \(PEM\)/).setInputFiles({
      name: 'sender.pem',
      mimeType: 'application/x-pem-file',
      buffer: Buffer.from(cert.certificatePem),
    });
    await page.getByLabel('Private key (PEM)').setInputFiles({
      name: 'sender.key',
      mimeType: 'application/x-pem-file',
      buffer: Buffer.from(cert.privateKeyPem),
    });
    await page.getByLabel('Thumbprint (optional)').fill(cert.thumbprintSha1);
    // Before saving: the file's thumbprints, and the typed one checked against them.
    await page.getByTestId('selected-thumbprints').getByText(cert.thumbprintSha256).waitFor();
    await page.getByText('The thumbprint matches the selected certificate').waitFor();
    await pointAtTestkit(page);
    await screenshot(page, '12-editor-certificate');
    await page.getByRole('button', { name: 'Create email server' }).click();
    await page.getByRole('heading', { name: 'Contoso certificate' }).waitFor();
    await page.getByText(cert.thumbprintSha256, { exact: false }).first().waitFor();
    await page.getByText(cert.thumbprintSha1, { exact: false }).first().waitFor();
    expect(await page.content()).not.toContain('PRIVATE KEY');
    certificateEntryUrl = new URL(page.url()).pathname;
    await screenshot(page, '13-certificate-entry');
  });

  it('editing a certificate entry keeps the stored certificate', async () => {
    await page.goto(`${certificateEntryUrl}/edit`);
    await page.getByText('Certificate: set').waitFor();
    await page.getByText(stack.env.certificate.thumbprintSha256).waitFor();
    await page.getByLabel(/^Name/).fill('Contoso certificate (renamed)');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Contoso certificate (renamed)' }).waitFor();
    await page.getByText(stack.env.certificate.thumbprintSha256).first().waitFor();
    expect(await page.content()).not.toContain('PRIVATE KEY');
  });

  it('creates a certificate entry from a PFX file with its passphrase', async () => {
    const pfx = makePfx(
      stack.env.certificate.certificatePem,
      stack.env.certificate.privateKeyPem,
      'pfx-pass',
    );
    expect(pfx, 'openssl (Debian) makes the PFX to upload').toBeTruthy();
    await page.goto('/servers/new');
    await page.getByLabel(/^Name/).fill('Contoso PFX');
    await page.getByLabel('Tenant').fill(stack.env.tenantId);
    await page.getByLabel('User (mailbox)').fill(stack.env.mailbox);
    await page.getByLabel('Client ID').fill(stack.env.clientId);
    await page.getByLabel('Use a certificate (PFX file)').check();
    await page
      .getByLabel(/^PFX file/)
      .setInputFiles({ name: 'sender.pfx', mimeType: 'application/x-pkcs12', buffer: pfx! });
    await page.getByLabel('Passphrase').fill('pfx-pass');
    await page.getByLabel('Thumbprint (optional)').fill(stack.env.certificate.thumbprintSha1);
    await pointAtTestkit(page);
    await page.getByRole('button', { name: 'Create email server' }).click();
    await page.getByRole('heading', { name: 'Contoso PFX' }).waitFor();
    await page.getByText('(PFX)').waitFor();
    expect(await page.content()).not.toContain('pfx-pass');
    await screenshot(page, '14a-pfx-entry');
  });

  it('makes an entry the default, then deletes it', async () => {
    await page.goto('/servers');
    await page.getByRole('link', { name: 'Contoso PFX' }).click();
    await page.getByRole('button', { name: 'Make default' }).click();
    await page
      .getByRole('heading', { name: /Contoso PFX/ })
      .getByText('Default')
      .waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Email servers', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Contoso M365' }).waitFor();
    expect(await page.getByRole('link', { name: 'Contoso PFX' }).count()).toBe(0);
    // The default went with it: the oldest remaining entry (the first one created) took its place.
    await page
      .getByRole('row', { name: /Contoso M365/ })
      .getByText('Default')
      .waitFor();
  });

  it('a thumbprint that does not match the certificate is refused under its field', async () => {
    const cert = stack.env.certificate;
    await page.goto('/servers/new');
    await page.getByLabel(/^Name/).fill('Wrong thumbprint');
    await page.getByLabel('Tenant').fill(stack.env.tenantId);
    await page.getByLabel('User (mailbox)').fill(stack.env.mailbox);
    await page.getByLabel('Client ID').fill(stack.env.clientId);
    await page.getByLabel('Use a certificate (PEM files)').check();
    await page.getByLabel(/^Certificate \(PEM\)/).setInputFiles({
      name: 'bundle.pem',
      mimeType: 'application/x-pem-file',
      buffer: Buffer.from(`${cert.certificatePem}\n${cert.privateKeyPem}`),
    });
    await page.getByLabel('Thumbprint (optional)').fill('AB'.repeat(20));
    await page.getByText('The thumbprint does not match the selected certificate').waitFor();
    await pointAtTestkit(page);
    await page.getByRole('button', { name: 'Create email server' }).click();
    const refused = page.locator('.field__error', { hasText: /Thumbprint/ }).first();
    const created = page.getByRole('heading', { name: 'Wrong thumbprint' });
    await refused.or(created).waitFor();
    expect(await created.isVisible(), 'the server must refuse a thumbprint that does not match (S16)').toBe(
      false,
    );
    await screenshot(page, '14-editor-thumbprint-mismatch');
  });

  it('setup guide: the Microsoft steps with the entry’s ids, commands to copy and how diagnostics confirm them', async () => {
    await page.goto(`${secretEntryUrl}/guide`);
    await page.getByRole('heading', { name: 'Microsoft 365 setup guide' }).waitFor();
    await page.getByLabel('Email server').selectOption({ label: `Contoso M365 (${stack.env.mailbox})` });
    const consent = page.getByRole('link', { name: 'Admin-consent link for this app' });
    expect(await consent.getAttribute('href')).toContain(`client_id=${stack.env.clientId}`);
    await page.getByText(`Add-MailboxPermission -Identity "${stack.env.mailbox}"`).waitFor();
    // The token's oid is the Enterprise Application's object id: New-ServicePrincipal gets it filled.
    await page.getByRole('button', { name: /Test token/ }).click();
    await page.getByText(`-ObjectId ${stack.env.app.servicePrincipalObjectId}`).waitFor();
    await page.getByLabel('Test recipient (optional)').fill('someone@example.org');
    await page.getByRole('button', { name: 'Run diagnostics' }).click();
    await page
      .locator('[data-guide-step="mailbox-permission"]')
      .getByText('Confirmed by diagnostics')
      .waitFor();
    await screenshot(page, '15-setup-guide');
  });

  it('API keys: created and shown once, then revoked', async () => {
    await page.goto('/api-keys');
    await page.getByText('No API keys').waitFor();
    await page.getByLabel('New key for').fill('billing app');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = page.getByTestId('created-key');
    await created.waitFor();
    const key = (await created.locator('code').textContent()) ?? '';
    expect(key).toMatch(/^smtpo_/);
    await screenshot(page, '16-api-key-created');
    await created.getByRole('button', { name: 'I have stored the key' }).click();
    expect(await page.content()).not.toContain(key);

    // An application uses the key with the send API; the list then shows it as used.
    const sent = await fetch(`${stack.baseUrl}/api/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        server: 'Contoso M365',
        to: 'billing@example.org',
        subject: 'Invoice',
        text: 'Your invoice.',
      }),
    });
    // Accepted into the server's outbox; delivered right after.
    expect(sent.status).toBe(202);
    await stack.env.waitForMessage((m) => m.parsed.subject === 'Invoice', { timeoutMs: 30_000 });
    await page.reload();
    await page
      .getByRole('row', { name: /billing app/ })
      .getByText(/ago|now/)
      .first()
      .waitFor();

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke billing app' }).click();
    await page
      .getByText(/Revoked/)
      .first()
      .waitFor();
    await screenshot(page, '17-api-keys');
  });

  it('sent-message log and audit log', async () => {
    await page.goto('/sent');
    await page.getByRole('heading', { name: 'Sent messages' }).waitFor();
    await page.locator('table, .state').first().waitFor();
    await page
      .getByRole('cell', { name: /250 2\.0\.0 OK/ })
      .first()
      .waitFor();
    await page.getByText('via API key').first().waitFor();
    await screenshot(page, '18-sent-log');
    await page.goto('/audit');
    await page.getByRole('cell', { name: 'email-server.create' }).first().waitFor();
    expect(await page.content()).not.toContain(stack.env.clientSecret);
    await screenshot(page, '19-audit-log');
  });

  it('readable at phone width, usable by keyboard', async () => {
    const { page: phone } = await stack.newPage({ viewport: { width: 390, height: 844 } });
    await signIn(phone);
    await phone.getByRole('link', { name: 'Contoso M365' }).waitFor();
    await screenshot(phone, '20-phone-servers');
    // No horizontal scrolling on the list.
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.goto('/servers/new');
    await phone.getByLabel('Tenant').waitFor();
    await screenshot(phone, '21-phone-editor');
    // Keyboard: the skip link comes first and moves focus to the content.
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Skip to content');
  });

  it('an expired session returns to sign-in and back to the page afterwards', async () => {
    const { context, page: other } = await stack.newPage();
    await signIn(other);
    await context.clearCookies();
    await other.goto('/audit');
    await expect.poll(() => new URL(other.url()).pathname).toBe('/login');
    expect(new URL(other.url()).searchParams.get('redirect')).toBe('/audit');
    await other.getByLabel('Email').fill('admin@example.test');
    await other.getByLabel('Password').fill(ADMIN_PASSWORD);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Audit log' }).waitFor();
  });

  it('ran without console errors or CSP violations', () => {
    expect(consoleErrors).toEqual([]);
  });

  it('signs out', async () => {
    await page.goto('/servers');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto('/audit');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
  });
});
