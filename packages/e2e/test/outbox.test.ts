/**
 * The WebAdmin's Outbox page in a real Chromium against the real server, with the testkit as
 * Microsoft (its Exchange limits on, so the entry is governed): messages delivered, refused and
 * deferred by testkit faults show up in the counts, the mailbox's usage and the list without a
 * reload; a queued message is cancelled and a failed one retried through the page.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, signIn, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let page: Page;
let apiKey = '';
let entryId = '';

beforeAll(async () => {
  // A transient failure is retried after ten minutes: a deferred message stays queued for the test.
  stack = await startStack({ outbox: { pollMs: 200, schedule: { firstDelayMs: 600_000, jitter: 0 } } });
  ({ page } = await stack.newPage());
  await signIn(page);
  const headers = { origin: stack.baseUrl };
  const created = await page.request.post('/api/email-servers', {
    data: { ...stack.env.config, name: 'Contoso M365' },
    headers,
  });
  expect(created.status()).toBe(201);
  entryId = ((await created.json()) as { emailServer: { id: string } }).emailServer.id;
  const key = await page.request.post('/api/api-keys', { data: { name: 'shop' }, headers });
  apiKey = ((await key.json()) as { key: string }).key;
});

afterAll(async () => {
  await stack?.close();
});

/** An application's send through the API key (not through the page). */
async function send(subject: string): Promise<{ id: string; messageId: string }> {
  const res = await fetch(`${stack.baseUrl}/api/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'customer@example.com', subject, text: 'Order confirmation' }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { id: string; messageId: string };
}

/** The state of a message as the API sees it. */
async function status(id: string): Promise<string> {
  const res = await page.request.get(`/api/messages/${id}`);
  return ((await res.json()) as { message: { status: string } }).message.status;
}

const count = (state: string) => page.getByTestId(`count-${state}`).textContent();
const row = (id: string) => page.locator(`tr[data-message-id="${id}"]`);

it('counts, mailbox usage and the list update live; a queued message is cancelled and a failed one retried', async () => {
  // Which summary requests were the page's own timer (not the admin's activity: the session's
  // idle timeout is not extended by them).
  const summaries: (string | undefined)[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/outbox/summary')) summaries.push(r.headers()['x-automatic-refresh']);
  });
  await page.getByRole('link', { name: 'Outbox' }).click();
  await page.getByRole('heading', { name: 'Outbox', exact: true }).waitFor();
  await page.getByText('The outbox is empty').waitFor();
  expect(await count('sent')).toBe('0');
  const mailbox = page.getByTestId('outbox-mailboxes').locator('tbody tr');
  await expect.poll(() => mailbox.textContent()).toContain('Contoso M365');
  expect(await mailbox.textContent()).toContain('0 of 30');
  // Live updates must not reload the page: this marker would be gone after a reload.
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });

  // Two delivered, one refused (550 at the end of DATA), one deferred (451 at RCPT) — all handed in
  // by an application while the page just sits there.
  const delivered = [await send('Order 1001'), await send('Order 1002')];
  // Each fault below is for the next message only: the first two are out before it is set.
  for (const m of delivered) await expect.poll(() => status(m.id), { timeout: 30_000 }).toBe('sent');
  stack.env.faults.smtp.add({ stage: 'data-end', reply: '550 5.7.1 Rejected by policy', times: 1 });
  const refused = await send('Order 1003');
  await expect.poll(() => status(refused.id), { timeout: 30_000 }).toBe('failed');
  stack.env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try again later', times: 1 });
  const deferred = await send('Order 1004');
  await expect.poll(() => status(deferred.id), { timeout: 30_000 }).toBe('queued');

  await expect.poll(() => count('sent'), { timeout: 20_000 }).toBe('2');
  await expect.poll(() => count('failed'), { timeout: 20_000 }).toBe('1');
  await expect.poll(() => count('queued'), { timeout: 20_000 }).toBe('1');
  await expect.poll(() => page.getByTestId('outbox-messages').locator('tbody tr').count()).toBe(4);
  await expect.poll(() => row(deferred.id).textContent()).toMatch(/Queued[\s\S]*451 4\.3\.0/);
  // Four attempts admitted by the governor in this minute; the backlog is the deferred message.
  await expect.poll(() => mailbox.textContent()).toMatch(/1 queued · 0 sending[\s\S]*of 3[\s\S]*4 of 30/);
  expect(await page.getByTestId('oldest-queued').textContent()).toMatch(/\d+ s|\d+ min/);
  // The first load was the admin's; the updates since came from the timer, marked as such.
  expect(summaries[0]).toBeUndefined();
  expect(summaries.slice(1).length).toBeGreaterThan(0);
  expect(summaries.slice(1).every((h) => h === '1')).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
    true,
  );

  // The deferred message: filter by state, open it, cancel it (confirmed with the keyboard).
  await page.getByLabel('State', { exact: true }).selectOption('queued');
  await expect.poll(() => page.getByTestId('outbox-messages').locator('tbody tr').count()).toBe(1);
  await row(deferred.id)
    .getByRole('button', { name: /Details/ })
    .click();
  const detail = page.getByTestId('message-detail');
  await expect
    .poll(() => detail.textContent())
    .toMatch(/Temporary failure[\s\S]*SMTP_TRANSIENT[\s\S]*451 4\.3\.0/);
  expect(await detail.textContent()).toContain(deferred.messageId);
  await detail.getByRole('button', { name: 'Cancel message' }).click();
  await detail.getByText('Cancel this message? It will not be delivered.').waitFor();
  // Focus is on the confirmation's "Yes" button: Enter confirms.
  await page.keyboard.press('Enter');
  await detail.getByTestId('action-result').getByText('Cancelled').waitFor();
  expect(await status(deferred.id)).toBe('cancelled');
  await expect.poll(() => count('cancelled')).toBe('1');
  await expect.poll(() => count('queued')).toBe('0');
  await detail.getByRole('button', { name: 'Close details' }).click();

  // The refused message: its attempt shows the server's reply and code; Retry sends it again with
  // the same Message-ID (the fault was for one message only).
  await page.getByLabel('State', { exact: true }).selectOption('failed');
  await expect.poll(() => page.getByTestId('outbox-messages').locator('tbody tr').count()).toBe(1);
  await row(refused.id)
    .getByRole('button', { name: /Details/ })
    .click();
  await expect.poll(() => detail.textContent()).toMatch(/Refused[\s\S]*SMTP_REJECTED[\s\S]*550 5\.7\.1/);
  await detail.getByRole('button', { name: 'Retry' }).click();
  await detail.getByRole('button', { name: 'Yes, send it again' }).click();
  await detail.getByTestId('action-result').getByText('Queued again').waitFor();
  const arrived = await stack.env.waitForMessage((m) => m.parsed.subject === 'Order 1003', {
    timeoutMs: 30_000,
  });
  expect(arrived.messageId).toBe(refused.messageId);
  // The open detail follows by itself: sent, two attempts.
  await expect.poll(() => detail.textContent(), { timeout: 20_000 }).toMatch(/Sent[\s\S]*Refused[\s\S]*Sent/);
  await expect.poll(() => count('sent'), { timeout: 20_000 }).toBe('3');
  expect(await count('failed')).toBe('0');

  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Email server', { exact: true }).selectOption(entryId);
  await expect.poll(() => page.getByTestId('outbox-messages').locator('tbody tr').count()).toBe(4);
  await screenshot(page, '40-outbox');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
    true,
  );
  // Nothing of a message's content is on the page.
  expect(await page.content()).not.toMatch(/Order 100\d|Order confirmation|customer@example\.com/);
}, 180_000);

it('an action the server refuses shows its code and message; Pause stops the live updates', async () => {
  await page.goto('/outbox');
  await page.getByRole('heading', { name: 'Outbox', exact: true }).waitFor();
  stack.env.faults.smtp.add({ stage: 'rcpt', reply: '451 4.3.0 Try again later', times: 1 });
  const queued = await send('Order 2001');
  await expect.poll(() => status(queued.id), { timeout: 30_000 }).toBe('queued');
  await row(queued.id)
    .getByRole('button', { name: /Details/ })
    .click({ timeout: 20_000 });
  const detail = page.getByTestId('message-detail');
  await detail.getByRole('button', { name: 'Cancel message' }).click();
  // Meanwhile the application cancels it itself.
  const cancelled = await fetch(`${stack.baseUrl}/api/messages/${queued.id}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(cancelled.status).toBe(200);
  await detail.getByRole('button', { name: 'Yes, cancel it' }).click();
  const alert = detail.getByRole('alert');
  await expect.poll(() => alert.textContent()).toMatch(/cancelled; only queued messages can be cancelled/);
  expect(await alert.textContent()).toContain('MESSAGE_NOT_QUEUED');
  const violations = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(
    violations.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  ).toEqual([]);

  // Paused: a new message does not appear until live updates resume.
  await page.getByRole('button', { name: 'Pause live updates' }).click();
  await page.getByTestId('live-status').getByText('Live updates paused').waitFor();
  const later = await send('Order 2002');
  await expect.poll(() => status(later.id), { timeout: 30_000 }).toBe('sent');
  await new Promise((r) => setTimeout(r, 6_000));
  expect(await row(later.id).count()).toBe(0);
  await page.getByRole('button', { name: 'Resume live updates' }).click();
  await row(later.id).waitFor();
}, 120_000);

it('pages: “Load older messages” continues the list, and the live updates keep the older rows loaded', async () => {
  await page.goto('/outbox');
  await page.getByRole('heading', { name: 'Outbox', exact: true }).waitFor();
  // More than a page (50), handed in at once; the governor sends 30 a minute, the rest wait queued.
  const listed = await page.request.get('/api/messages?limit=500');
  const before = ((await listed.json()) as { messages: unknown[] }).messages.length;
  await Promise.all(Array.from({ length: 51 - before }, (_, i) => send(`Bulk ${i}`)));
  const rows = page.getByTestId('outbox-messages').locator('tbody tr');
  await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(50);
  await page.getByRole('button', { name: 'Load older messages' }).click();
  await expect.poll(() => rows.count()).toBe(51);
  expect(await page.getByRole('button', { name: 'Load older messages' }).count()).toBe(0);
  // Two live updates later the older row is still there (a refresh re-reads what is loaded).
  const updated = await page.getByTestId('live-status').textContent();
  await expect
    .poll(() => page.getByTestId('live-status').textContent(), { timeout: 20_000 })
    .not.toBe(updated);
  const again = await page.getByTestId('live-status').textContent();
  await expect.poll(() => page.getByTestId('live-status').textContent(), { timeout: 20_000 }).not.toBe(again);
  expect(await rows.count()).toBe(51);
}, 120_000);
