/**
 * The email-server editor in a real Chromium against the real server and the testkit: messages
 * that lead to the fix, saving with clear severity, Save & test, and no lost work.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  ({ page } = await stack.newPage());
  await signIn(page);
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) {
    const slug = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    await screenshot(page, `failed-editor-${slug}`).catch(() => undefined);
  }
});

afterAll(async () => {
  await stack?.close();
});

/** Fills a Microsoft 365 entry pointed at the testkit. */
async function fillEntry(p: Page, name: string, scope?: string) {
  await p.goto('/servers/new');
  await p.getByLabel('Tenant').fill(stack.env.tenantId);
  await p.getByLabel(/^Name/).fill(name);
  await p.getByLabel('User (mailbox)').fill(stack.env.mailbox);
  await p.getByLabel('Client ID').fill(stack.env.clientId);
  await p.getByLabel(/^Client secret/).fill(stack.env.clientSecret);
  await p.getByLabel('Token endpoint').fill(stack.env.tokenEndpoint);
  await p.getByLabel('SMTP server').fill(stack.env.smtp.host);
  await p.getByLabel('Port').fill(String(stack.env.smtp.port));
  if (scope) await p.getByLabel('Scope').fill(scope);
  await p.getByText('Advanced').click();
  await p.getByLabel('Trusted CA certificate (PEM)').fill(stack.env.caPem);
}

describe('smaller items', () => {
  it('the sign-in error is said once', async () => {
    const { context, page: other } = await stack.newPage();
    try {
      await other.goto('/login');
      await other.getByLabel('Email').fill(ADMIN_EMAIL);
      await other.getByLabel('Password').fill('wrong-password');
      await other.getByRole('button', { name: 'Sign in' }).click();
      const alert = other.getByRole('alert');
      await alert.waitFor();
      expect(await alert.getByText('Wrong email or password').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('a load error offers Try again, which loads the page', async () => {
    let failOnce = true;
    await page.route('**/api/email-servers', async (route) => {
      if (failOnce && route.request().method() === 'GET') {
        failOnce = false;
        await route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'The server is restarting' } }),
        });
      } else await route.continue();
    });
    try {
      await page.goto('/servers');
      await page.getByRole('alert').getByText('The server is restarting').waitFor();
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.getByRole('heading', { name: 'Email servers', exact: true }).waitFor();
      await expect.poll(() => page.getByRole('alert').count()).toBe(0);
    } finally {
      await page.unroute('**/api/email-servers');
    }
  });

  it('the guide’s checkboxes have distinct accessible names', async () => {
    await page.goto('/guide');
    await page.getByRole('heading', { name: 'Microsoft 365 setup guide' }).waitFor();
    const boxes = page.getByRole('checkbox');
    const count = await boxes.count();
    expect(count).toBeGreaterThan(3);
    const names: string[] = [];
    for (let i = 0; i < count; i++)
      names.push(
        await boxes
          .nth(i)
          .evaluate((el) => (el.closest('label')?.textContent ?? '').replace(/\s+/g, ' ').trim()),
      );
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the editor', () => {
  it('errors: a summary at the top takes the focus and links each problem to its field', async () => {
    await page.goto('/servers/new');
    await page.getByRole('button', { name: 'Create email server' }).click();
    const summary = page.locator('#editor-summary');
    await summary.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('editor-summary');
    await summary.getByRole('link', { name: /^Client ID is required/ }).click();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('clientId');
    await screenshot(page, '20-editor-error-summary');

    // Core's `port` reads as the screen's field, its Markdown rendered: no literal backticks.
    await page.getByLabel('SMTP server').fill('smtp.office365.com:587');
    await page.getByLabel('SMTP server').blur();
    const hostError = page.locator('.field__error', { hasText: 'separately' });
    await hostError.waitFor();
    expect(await hostError.textContent()).toContain('set “Port” separately');
    expect(await hostError.textContent()).not.toContain('`');
  });

  it('the CA field says it is trusted for the token endpoint too', async () => {
    await page.goto('/servers/new');
    await page.getByText('Advanced').click();
    const described = await page.getByLabel('Trusted CA certificate (PEM)').getAttribute('aria-describedby');
    const hint = await page.locator(`[id="${described?.split(' ')[0]}"]`).textContent();
    expect(hint).toMatch(/token endpoint/);
  });

  // Regression: a Graph scope blocked saving without a message; the doctor then also blamed admin consent.
  it('a Graph scope is an amber warning, Save & test saves and tests; the fix names “Scope” and opens the editor there', async () => {
    await fillEntry(page, 'Graph scope', 'https://graph.microsoft.com/.default');
    await page.getByLabel('Scope').blur();
    const warning = page.locator('.field__warning', { hasText: 'Microsoft Graph scope' });
    await warning.waitFor();
    await screenshot(page, '21-editor-graph-scope-warning');
    await page.getByRole('button', { name: 'Save & test' }).click();
    await page.getByRole('heading', { name: 'Graph scope' }).waitFor();

    // Save & test ran the token test and the diagnostics on the saved entry.
    const token = page.getByTestId('token-result');
    await token.getByTestId('follow-on').waitFor();
    const tokenFixes = await token.locator('.small', { hasText: 'Fix:' }).allTextContents();
    expect(tokenFixes.join('\n')).not.toMatch(/admin consent/i);
    const diagnostics = page.getByTestId('diagnostics-result');
    await diagnostics.getByText(/Failed at:/).waitFor({ timeout: 30_000 });
    const failing = diagnostics.locator('[data-status="fail"]').first();
    // Causes and fix (the evidence keeps the raw token checks).
    const advice = [
      ...(await failing.locator('.causes').allTextContents()),
      ...(await failing.locator('.alert').allTextContents()),
    ].join('\n');
    expect(advice).toContain('“Scope”');
    expect(advice).not.toContain('auth.scope');
    // The missing role follows from the audience: no Global Administrator task is named.
    expect(advice).not.toMatch(/admin consent/i);
    await screenshot(page, '22-save-and-test-graph-scope');

    await failing.getByRole('link', { name: 'Fix in editor: Scope' }).click();
    await page.getByRole('heading', { name: /^Edit Graph scope/ }).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('scope');
    await page.getByLabel('Scope').fill('https://outlook.office365.com/.default');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Graph scope' }).waitFor();
    // The failure was recorded before this save: it is shown as outdated, not as the current state.
    await page.getByTestId('last-test').getByText('Failed (outdated)').waitFor();
    await screenshot(page, '23-last-test-outdated');

    // Regression: a long last-test reply squeezed the host column of the servers list.
    await page.goto('/servers');
    const row = page.locator('tr', { hasText: 'Graph scope' });
    await row.getByTestId('last-test').waitFor();
    const host = row.locator('td[data-label="SMTP server"]');
    const { fits, lines } = await host.evaluate((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      // One line box per line the host name takes.
      const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
      return { fits: td.scrollWidth <= td.clientWidth, lines: tops.size };
    });
    expect(fits).toBe(true);
    expect(lines).toBe(1);
    expect(((await row.getByTestId('last-test').textContent()) ?? '').length).toBeGreaterThan(80);
  });

  it('unsaved changes survive a reload, without the typed secret', async () => {
    await page.goto('/servers/new');
    await page.getByLabel(/^Name/).fill('Draft entry');
    await page.getByLabel('Client ID').fill(stack.env.clientId);
    await page.getByLabel(/^Client secret/).fill('typed-secret-value');
    // A typed secret cannot be kept: the browser asks before leaving.
    let asked = false;
    page.once('dialog', (dialog) => {
      asked = dialog.type() === 'beforeunload';
      void dialog.accept();
    });
    await page.reload();
    await page.getByTestId('draft-restored').waitFor();
    expect(asked).toBe(true);
    expect(await page.getByLabel(/^Name/).inputValue()).toBe('Draft entry');
    expect(await page.getByLabel('Client ID').inputValue()).toBe(stack.env.clientId);
    expect(await page.getByLabel(/^Client secret/).inputValue()).toBe('');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).toContain('Draft entry');
    expect(stored).not.toContain('typed-secret-value');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await page.getByLabel(/^Name/).waitFor();
    await expect.poll(() => page.getByLabel(/^Name/).inputValue()).toBe('');
  });

  it('an expired session opens a sign-in dialog over the form; the save then continues', async () => {
    const { context, page: other } = await stack.newPage();
    await signIn(other);
    const original = page;
    page = other;
    try {
      await fillEntry(other, 'Saved after sign-in');
      await context.clearCookies();
      await other.getByRole('button', { name: 'Create email server' }).click();
      const dialog = other.getByRole('dialog', { name: 'Your session has expired' });
      await dialog.waitFor();
      // The form is still there behind the dialog.
      expect(await other.getByLabel(/^Name/).inputValue()).toBe('Saved after sign-in');
      await screenshot(other, '24-session-expired-dialog');
      await dialog.getByLabel('Email').fill(ADMIN_EMAIL);
      await dialog.getByLabel('Password').fill(ADMIN_PASSWORD);
      await dialog.getByRole('button', { name: 'Sign in and continue' }).click();
      await other.getByRole('heading', { name: 'Saved after sign-in' }).waitFor();
      await other.getByText('Saved').first().waitFor();
    } finally {
      page = original;
    }
  });
});
