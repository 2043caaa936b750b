/**
 * "Move to OAuth2" in a real Chromium against the real server, with the testkit as Microsoft: a
 * password entry becomes an OAuth2 entry (core's migrateToOAuth2), keeping server, port and mailbox,
 * and the diagnostics that run right after pass against the testkit.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

const PASSWORD = 'legacy-basic-auth-canary';

let stack: Stack;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  ({ page } = await stack.newPage());
  await signIn(page);
});

afterAll(async () => {
  await stack?.close();
});

describe('Move to OAuth2', () => {
  it('asks only for the tenant side, keeps server and mailbox, removes the password and runs the diagnostics', async () => {
    const { env } = stack;
    const created = await page.request.post('/api/email-servers', {
      headers: { origin: stack.baseUrl },
      data: {
        name: 'Legacy relay',
        host: env.smtp.host,
        port: env.smtp.port,
        security: 'starttls',
        user: env.mailbox,
        tls: { ca: env.caPem },
        auth: { type: 'password', password: PASSWORD },
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const id = (await created.json()).emailServer.id as string;

    await page.goto(`/servers/${id}`);
    await page.getByRole('button', { name: 'Move to OAuth2' }).click();
    const card = page.getByTestId('move-to-oauth2');
    await card.getByText('Another Entra-compatible token endpoint').click();
    await card.getByLabel('Token endpoint').fill(env.tokenEndpoint);
    await card.getByLabel('Application (client) ID').fill(env.clientId);
    await card.getByLabel('Client secret', { exact: false }).check();
    await card.getByLabel('Client secret Value').fill(env.clientSecret);
    await screenshot(page, '20-move-to-oauth2');
    await card.getByRole('button', { name: 'Move and run diagnostics' }).click();

    const diagnostics = card.getByTestId('diagnostics-result');
    await diagnostics.waitFor({ timeout: 60_000 });
    await card.getByText('Moved to OAuth2').waitFor();
    expect(await diagnostics.textContent()).not.toMatch(/Failed at/);

    const stored = (await (await page.request.get(`/api/email-servers/${id}`)).json()).emailServer;
    expect(stored.config).toMatchObject({
      host: env.smtp.host,
      port: env.smtp.port,
      user: env.mailbox,
      auth: { type: 'oauth2', provider: 'entra', tokenEndpoint: env.tokenEndpoint, clientId: env.clientId },
    });
    expect(stored.passwordSet).toBe(false);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    expect(env.authAttempts().at(-1)).toMatchObject({ ok: true, mechanism: 'XOAUTH2' });
  });

  it('names the field when the client ID is not a GUID, and saves nothing', async () => {
    const { env } = stack;
    const created = await page.request.post('/api/email-servers', {
      headers: { origin: stack.baseUrl },
      data: {
        name: 'Second legacy',
        host: env.smtp.host,
        port: env.smtp.port,
        user: env.mailbox,
        auth: { type: 'password', password: PASSWORD },
      },
    });
    const id = (await created.json()).emailServer.id as string;
    await page.goto(`/servers/${id}`);
    await page.getByRole('button', { name: 'Move to OAuth2' }).click();
    const card = page.getByTestId('move-to-oauth2');
    await card.getByLabel('Directory (tenant) ID or domain').fill('common');
    await card.getByLabel('Application (client) ID').fill('my-app');
    await card.getByRole('button', { name: 'Move and run diagnostics' }).click();
    await card.getByText(/cannot be used with client credentials/).waitFor();
    await card.getByText(/must be the Application \(client\) ID/).waitFor();
    const stored = (await (await page.request.get(`/api/email-servers/${id}`)).json()).emailServer;
    expect(stored.config.auth.type).toBe('password');
  });
});
