/**
 * The WebAdmin's Relay page in a real Chromium against the real server with the relay on and the
 * testkit as Microsoft: an admin creates a device, copies its settings (the password is shown once)
 * and sends a test message through the relay itself, which arrives at the (fake) Exchange.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;

beforeAll(async () => {
  stack = await startStack({ relay: true });
  // The entry the device relays through, created over the API (the entry form has its own tests).
  const login = await fetch(`${stack.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: stack.baseUrl },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const created = await fetch(`${stack.baseUrl}/api/email-servers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: stack.baseUrl, cookie },
    body: JSON.stringify(stack.env.config),
  });
  expect(created.status).toBe(201);
  ({ page } = await stack.newPage());
  await signIn(page);
});

afterAll(async () => {
  await stack?.close();
});

it('Relay page: listener and fingerprint, a new device with its one-time settings card, a test through the relay', async () => {
  await page.getByRole('link', { name: 'Relay' }).click();
  await page.getByRole('heading', { name: 'SMTP relay' }).waitFor();
  const status = stack.server.relay!.status();
  const port = status.listeners[0]!.port;
  await expect.poll(() => page.getByTestId('relay-status').textContent()).toContain(`127.0.0.1:${port}`);
  expect(await page.getByTestId('relay-fingerprint').textContent()).toBe(
    status.certificate.fingerprintSha256,
  );

  await page.getByLabel('Name').fill('Printer 2nd floor');
  await page.getByRole('button', { name: 'Create device' }).click();
  const card = page.getByTestId('relay-password');
  await card.waitFor();
  const settings = (await card.locator('pre').textContent()) ?? '';
  expect(settings).toContain(`Port:         ${port}`);
  expect(settings).toContain('Security:     STARTTLS');
  expect(settings).toContain('User name:    printer-2nd-floor');
  expect(settings).toMatch(/Password: {5}[A-Za-z0-9_-]{32}/);
  await screenshot(page, 'relay-device-created');

  await page.getByLabel('Send a test message to').fill('office@example.com');
  await page.getByRole('button', { name: 'Send test through the relay' }).click();
  const result = page.getByTestId('relay-test-result');
  await result.waitFor();
  expect(await result.textContent()).toMatch(/Accepted\s*250 /);
  const delivered = await stack.env.waitForMessage(
    (m) => m.parsed.subject === 'Relay test from the WebAdmin',
    {
      timeoutMs: 30_000,
    },
  );
  expect(delivered.envelope.rcptTo).toEqual(['office@example.com']);
  await expect
    .poll(() => page.getByTestId('relay-devices').textContent())
    .toMatch(/Printer 2nd floor[\s\S]*1 sent/);

  // Once dismissed, the password is gone from the page: only a new password shows one again.
  await page.getByRole('button', { name: 'I have configured the device' }).click();
  expect(await page.content()).not.toMatch(/Password: {5}[A-Za-z0-9_-]{32}/);
});
