/**
 * axe-core over every page of the WebAdmin, in light and dark colour schemes and at phone width:
 * kept at 0 violations. Pages are visited with content (an entry, a token test, diagnostics) so the
 * scan sees what an admin sees, not just empty states.
 */
import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let entryId = '';

beforeAll(async () => {
  stack = await startStack();
  const { page } = await stack.newPage();
  await signIn(page);
  // One entry, created through the API the WebAdmin uses, so detail and guide pages have content.
  const created = await page.request.post('/api/email-servers', {
    data: { ...stack.env.config, name: 'Contoso M365' },
    headers: { origin: stack.baseUrl },
  });
  expect(created.status()).toBe(201);
  entryId = ((await created.json()) as { emailServer: { id: string } }).emailServer.id;
});

afterAll(async () => {
  await stack?.close();
});

const pages = () => [
  { path: '/servers', ready: 'Email servers' },
  { path: '/servers/new', ready: 'New email server' },
  { path: `/servers/${entryId}`, ready: 'Contoso M365', act: checkServer },
  { path: `/servers/${entryId}/edit`, ready: 'Edit Contoso M365' },
  { path: '/guide', ready: 'Microsoft 365 setup guide' },
  { path: `/servers/${entryId}/guide`, ready: 'Microsoft 365 setup guide' },
  { path: '/sent', ready: 'Sent messages' },
  { path: '/outbox', ready: 'Outbox', act: openFirstMessage },
  { path: '/api-keys', ready: 'API keys' },
  { path: '/audit', ready: 'Audit log' },
  { path: '/no-such-page', ready: /not found/i },
];

/** The detail page with a token test, diagnostics and a test email on it. */
async function checkServer(page: Page) {
  await page.getByRole('button', { name: 'Test token' }).click();
  await page.getByTestId('token-result').waitFor();
  await page.getByLabel('Test recipient').fill('someone@example.org');
  await page.getByRole('button', { name: 'Send test email' }).click();
  await page.getByTestId('send-result').waitFor();
  await page.getByRole('button', { name: 'Run diagnostics' }).click();
  await page
    .getByTestId('diagnostics-result')
    .getByText(/steps passed|Failed at/)
    .waitFor();
}

/**
 * The Outbox page with its mailbox table, and a message's details open when there is one (a test
 * email is sent directly, not through the outbox: the list may be empty; outbox.test.ts scans it full).
 */
async function openFirstMessage(page: Page) {
  await page.getByRole('heading', { name: 'Mailboxes' }).waitFor();
  await page
    .getByText(/The outbox is empty|Details/)
    .first()
    .waitFor();
  const details = page.getByRole('button', { name: /^Details/ });
  if ((await details.count()) === 0) return;
  await details.first().click();
  await page.getByRole('heading', { name: 'Message details' }).waitFor();
}

async function scan(page: Page, where: string): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.map(
    (v) => `${where}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

describe.each([
  { name: 'light', colorScheme: 'light' as const, viewport: { width: 1366, height: 768 } },
  { name: 'dark', colorScheme: 'dark' as const, viewport: { width: 1366, height: 768 } },
  { name: 'phone', colorScheme: 'light' as const, viewport: { width: 390, height: 844 } },
])('axe-core: $name', ({ name, colorScheme, viewport }) => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await stack.newPage({ viewport }));
    await page.emulateMedia({ colorScheme });
  });
  afterAll(async () => {
    await context?.close();
  });

  it('the sign-in page, with and without an error', async () => {
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const violations = await scan(page, `${name} /login`);
    await page.getByLabel('Email').fill('admin@example.test');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    violations.push(...(await scan(page, `${name} /login (error)`)));
    expect(violations).toEqual([]);
  });

  it('every page after sign-in', async () => {
    await signIn(page);
    const violations: string[] = [];
    for (const p of pages()) {
      await page.goto(p.path);
      await page.getByRole('heading', { name: p.ready }).first().waitFor();
      if (p.act) await p.act(page);
      violations.push(...(await scan(page, `${name} ${p.path}`)));
    }
    expect(violations).toEqual([]);
  }, 300_000);
});
