/**
 * Sandbox mode's practice credentials: an admin rehearses creating an entry with values copied from
 * the panel, as from the Entra portal, and it works end to end.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;

beforeAll(async () => {
  stack = await startStack({ sandbox: true });
  ({ page } = await stack.newPage());
  await signIn(page);
});

afterAll(async () => {
  await stack?.close();
});

const panelValue = async (panel: ReturnType<Page['getByTestId']>, term: string) =>
  (
    (await panel
      .locator('dt', { hasText: term })
      .locator('xpath=following-sibling::dd[1]')
      .locator('.mono')
      .textContent()) ?? ''
  ).trim();

describe('practice credentials (sandbox mode)', () => {
  it('a secret made on request and the panel’s values create a working entry', async () => {
    await page.goto('/servers/new');
    await page.getByText('Practising in the sandbox?').click();
    const panel = page.getByTestId('practice-panel');
    await panel.waitFor();
    await panel.getByRole('button', { name: 'Create a client secret' }).click();
    const secret = ((await panel.getByTestId('practice-secret').locator('.mono').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThan(20);
    await screenshot(page, '30-practice-credentials');

    const facts = stack.server.sandbox!.info;
    const ca = await (await page.request.get('/api/sandbox/practice/files/ca.pem')).text();
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const pfx = await page.request.get('/api/sandbox/practice/files/certificate.pfx');
    expect(pfx.headers()['content-type']).toContain('application/x-pkcs12');

    await page.locator('input[name="tenant"]').fill(await panelValue(panel, 'Directory (tenant) ID'));
    await page.getByLabel(/^Name/).fill('Rehearsal');
    await page.getByLabel('User (mailbox)').fill(await panelValue(panel, 'Mailbox'));
    await page
      .getByRole('textbox', { name: 'Client ID', exact: true })
      .fill(await panelValue(panel, 'Application (client) ID'));
    await page.getByLabel(/^Client secret/).fill(secret);
    await page
      .getByRole('textbox', { name: 'Token endpoint', exact: true })
      .fill(await panelValue(panel, 'Token endpoint'));
    await page.getByLabel('SMTP server').fill(facts.smtp.host);
    await page.getByLabel('Port').fill(String(facts.smtp.port));
    await page.getByText('Advanced', { exact: true }).click();
    await page.getByLabel('Trusted CA certificate (PEM)').fill(ca);
    await page.getByRole('button', { name: 'Save & test' }).click();
    await page.getByRole('heading', { name: 'Rehearsal' }).waitFor();
    await page
      .getByTestId('token-result')
      .getByText('Token accepted by all checks')
      .waitFor({ timeout: 30_000 });
  });
});
