/**
 * The whole product for one test file: the testkit as Microsoft, the real server (temp SQLite, sandbox
 * allowances for the testkit's loopback listeners, the built admin UI) and Debian's Chromium.
 * Everything listens on 127.0.0.1 port 0; each call makes its own, nothing is shared across files.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CreateServerOptions,
  createKeyRing,
  createServer,
  generateKek,
  type ListeningServer,
  type SmtpOAuthServer,
  silentLogger,
} from '@org/server';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const ADMIN_EMAIL = 'admin@example.test';
// Test-only credential for a throw-away server; generated per run so no fixed password lives in the repo.
export const ADMIN_PASSWORD = `e2e-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOT_DIR = join(here, '..', '..', 'test-results', 'screenshots');

/** The built admin UI of the workspace package (`pnpm --filter @org/admin-ui build`). */
export function adminUiDist(): string {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@org/admin-ui/package.json')), 'dist');
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`The admin UI is not built (${dir}); run: pnpm --filter @org/admin-ui build`);
  }
  return dir;
}

export interface Stack {
  env: TestEnvironment;
  server: SmtpOAuthServer;
  http: ListeningServer;
  baseUrl: string;
  browser: Browser;
  /** A fresh browser context (own cookies) and page at phone or laptop size. */
  newPage(options?: {
    viewport?: { width: number; height: number };
  }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/**
 * `sandbox`: the server runs in sandbox mode (its own testkit, practice credentials).
 * `relay`: also start the SMTP relay (one STARTTLS listener on 127.0.0.1, certificate generated in the data dir).
 * `outbox`: the outbox's delivery options (e.g. a longer retry schedule, so a message stays queued).
 * `webhooks`: allow webhook receivers on 127.0.0.1 over http.
 */
export async function startStack(
  options: {
    sandbox?: boolean;
    relay?: boolean;
    outbox?: CreateServerOptions['outbox'];
    webhooks?: boolean;
  } = {},
): Promise<Stack> {
  const env = await createTestEnvironment();
  const dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-e2e-'));
  const server = await createServer({
    store: { dataDir },
    keyRing: createKeyRing([generateKek(new Date())]),
    logger: silentLogger,
    // Loopback allowances for the testkit, as an operator would grant them (TOKEN_HOST_ALLOWLIST,
    // SMTP allowed addresses) — not sandbox mode, which seeds its own entry and testkit.
    tokenHostAllowlist: ['127.0.0.1'],
    smtp: { allowedAddresses: ['127.0.0.1'] },
    admin: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    // Cheap hashes: this server lives for one test file.
    passwordHashing: { N: 2 ** 12, r: 8, p: 1 },
    adminUiDir: adminUiDist(),
    ...(options.sandbox ? { sandbox: true } : {}),
    ...(options.outbox ? { outbox: options.outbox } : {}),
    // `webhooks`: API keys' webhooks may post to a receiver on 127.0.0.1 over http, as an operator
    // would allow with WEBHOOK_ALLOW_HTTP and an allowed address.
    ...(options.webhooks
      ? { webhooks: { allowHttp: true, allowedAddresses: ['127.0.0.1'], pollMs: 100 } }
      : {}),
    ...(options.relay
      ? {
          relay: {
            listeners: [{ port: 0, host: '127.0.0.1', mode: 'starttls' as const }],
            tls: { dir: join(dataDir, 'relay') },
            hostname: 'localhost',
          },
        }
      : {}),
  });
  const http = await server.listen(0, '127.0.0.1');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  await mkdir(SCREENSHOT_DIR, { recursive: true });

  const contexts: BrowserContext[] = [];
  return {
    env,
    server,
    http,
    baseUrl: http.url,
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        baseURL: http.url,
        viewport: options.viewport ?? { width: 1280, height: 900 },
        // Copy buttons are exercised too.
        permissions: ['clipboard-read', 'clipboard-write'],
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return { context, page };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await server.close();
      await env.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export async function signIn(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Email servers', exact: true }).waitFor();
}
