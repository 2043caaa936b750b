/**
 * The API keys page's webhook: an admin sets the URL, copies the secret shown once, sends a test
 * event and sees the last delivery — against a real receiver on 127.0.0.1 that checks the
 * signature with its own HMAC code (the Standard Webhooks rule, independent of the server's library).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.end();
  });
});
let receiverUrl = '';

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/mail`;
  stack = await startStack({ webhooks: true });
  ({ page } = await stack.newPage());
  await signIn(page);
});

afterAll(async () => {
  await stack?.close();
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

/** axe-core's WCAG 2.1 AA violations of what the page shows now (the a11y suite's rules). */
async function violations(): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.map((v) => `${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Standard Webhooks: base64 HMAC-SHA256 of `id.timestamp.body` under the secret's base64 bytes. */
function signatureValid(secret: string, r: { headers: IncomingHttpHeaders; body: string }): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`)
    .digest();
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, sig] = part.split(',');
      const given = Buffer.from(sig ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

it('API keys page: webhook URL refused with the reason, set, secret shown once, test event delivered and shown', async () => {
  await page.goto('/api-keys');
  await page.getByLabel('New key for').fill('shop');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('created-key').waitFor();
  await page.getByRole('button', { name: 'I have stored the key' }).click();

  // A private address is refused by the server's guard; the field says why and how to allow it.
  await page.getByRole('button', { name: 'Set webhook of shop' }).click();
  await page.getByLabel('Webhook URL').fill('http://10.0.0.5/hook');
  await page.getByRole('button', { name: 'Save webhook' }).click();
  await page.getByText(/10\.0\.0\.5, a private address/).waitFor();
  expect(await page.getByTestId('key-webhook').textContent()).toContain('WEBHOOK_ALLOW_PRIVATE_TARGETS');
  expect(await violations()).toEqual([]);

  await page.getByLabel('Webhook URL').fill(receiverUrl);
  await page.getByRole('button', { name: 'Save webhook' }).click();
  const box = page.getByTestId('webhook-secret');
  await box.waitFor();
  const secret = ((await box.getByText(/^whsec_/).textContent()) ?? '').trim();
  expect(secret).toMatch(/^whsec_/);
  await page.getByTestId('key-webhook').getByText(receiverUrl).waitFor();
  await page.getByTestId('key-webhook').getByText('No delivery yet').waitFor();
  await screenshot(page, '18-api-key-webhook-secret');
  await box.getByRole('button', { name: 'I have stored the secret' }).click();
  expect(await page.content()).not.toContain(secret);

  await page.getByRole('button', { name: 'Send test event for shop' }).click();
  await page.getByTestId('webhook-test-result').getByText('Test event delivered (HTTP 200)').waitFor();
  await page.getByTestId('webhook-last-delivery').getByText('Last event delivered (HTTP 200)').waitFor();
  expect(received).toHaveLength(1);
  expect(JSON.parse(received[0]!.body).type).toBe('webhook.test');
  expect(signatureValid(secret, received[0]!)).toBe(true);
  expect(await violations()).toEqual([]);
  await screenshot(page, '19-api-key-webhook-delivered');

  // Rotated: a new secret, shown once; the old one no longer verifies the next event.
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Rotate secret of shop' }).click();
  const rotated = (
    (await page
      .getByTestId('webhook-secret')
      .getByText(/^whsec_/)
      .textContent()) ?? ''
  ).trim();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await page.getByRole('button', { name: 'Send test event for shop' }).click();
  await expect.poll(() => received.length, { timeout: 30_000 }).toBe(2);
  expect(signatureValid(rotated, received[1]!)).toBe(true);
  expect(signatureValid(secret, received[1]!)).toBe(false);
});
