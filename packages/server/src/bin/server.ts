#!/usr/bin/env node
/**
 * Entry point: the only place that reads process.env.
 *   smtp-oauth-server [--sandbox]           serve the API and admin UI
 *   smtp-oauth-server rotate-key [--generate] [--prune]
 *       re-encrypt every stored secret under the newest key (S2). With a key file, --generate first
 *       puts a new key in front; --prune then removes the old keys from the file.
 */
import { loadSettings, type ServerSettings } from '../config.js';
import { createJsonLogger, type Logger } from '../logger.js';
import { reencryptAll } from '../rotate.js';
import {
  generateKek,
  type KeyRing,
  loadOrCreateKeyFile,
  parseKeyRing,
  prependKeyToFile,
  pruneKeyFile,
} from '../secrets/keyring.js';
import { SANDBOX_ENTRY_NAME, type SandboxMode } from '../sandbox.js';
import { createServer } from '../server.js';
import { openStore, type StoreOptions } from '../store/db.js';
import { mkdirSync } from 'node:fs';

function storeOptions(s: ServerSettings): StoreOptions {
  return s.databaseUrl ? { databaseUrl: s.databaseUrl } : { dataDir: s.dataDir };
}

function keyRing(s: ServerSettings, logger: Logger): KeyRing {
  if (s.keys) return parseKeyRing(s.keys);
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  const { ring, created } = loadOrCreateKeyFile(s.keyFile, new Date());
  if (created)
    logger.warn('generated a new encryption key file; back it up — without it stored secrets are lost', {
      keyFile: s.keyFile,
    });
  return ring;
}

async function rotate(s: ServerSettings, args: string[], logger: Logger): Promise<void> {
  let ring = keyRing(s, logger);
  if (args.includes('--generate')) {
    if (s.keys)
      throw new Error(
        '--generate works with the key file; with SMTP_OAUTH_KEYS put the new key first yourself',
      );
    ring = prependKeyToFile(s.keyFile, generateKek(new Date()));
  }
  const store = await openStore(storeOptions(s));
  try {
    const result = await reencryptAll(store, ring, { logger });
    console.log(
      `Re-encrypted ${result.reencrypted} secret(s) under key "${ring.primary.id}" (${result.unchanged} already were).`,
    );
  } finally {
    await store.close();
  }
  if (args.includes('--prune') && !s.keys) {
    pruneKeyFile(s.keyFile);
    console.log('Removed the old keys from the key file.');
  }
}

function outboxOptions({ retryFirstDelayMs, ...rest }: ServerSettings['outbox']) {
  return { ...rest, ...(retryFirstDelayMs ? { schedule: { firstDelayMs: retryFirstDelayMs } } : {}) };
}

async function serve(s: ServerSettings, logger: Logger): Promise<void> {
  let sandboxPassword: string | undefined;
  const server = await createServer({
    store: storeOptions(s),
    keyRing: keyRing(s, logger),
    logger,
    admin: {
      ...(s.adminEmail ? { email: s.adminEmail } : {}),
      ...(s.adminPassword ? { password: s.adminPassword } : {}),
      onGeneratedPassword(email, password) {
        if (s.sandbox) {
          sandboxPassword = password; // printed with the sandbox banner below
          return;
        }
        // Printed once, straight to the console; never passed to the logger.
        console.log(
          `\n  First start: sign in as ${email} with the one-time password\n\n      ${password}\n\n  It will not be shown again.\n`,
        );
      },
    },
    tokenHostAllowlist: s.tokenHostAllowlist,
    smtp: { allowPrivateHosts: s.allowPrivateSmtpHosts },
    sandbox: s.sandbox,
    secureCookies: s.secureCookies,
    trustProxy: s.trustProxy,
    allowedOrigins: s.allowedOrigins,
    ...(s.adminUiDir ? { adminUiDir: s.adminUiDir } : {}),
    outbox: outboxOptions(s.outbox),
  });
  const { url } = await server.listen(s.port, s.host);
  logger.info('listening', { url, database: s.databaseUrl ? 'postgres' : 'sqlite', sandbox: s.sandbox });
  console.log(`smtp-oauth server on ${url}`);
  if (server.sandbox) {
    console.log(
      sandboxBanner(
        url,
        server.sandbox,
        s.adminEmail ?? 'admin@localhost',
        sandboxPassword ?? '(the ADMIN_PASSWORD you set)',
      ),
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** What a newcomer needs after `pnpm sandbox`: where to go, how to sign in, where mail lands. */
function sandboxBanner(url: string, sandbox: SandboxMode, email: string, password: string): string {
  const message = JSON.stringify({
    to: 'someone@example.com',
    subject: 'Hello from the sandbox',
    text: 'Sent through POST /api/send',
  });
  return [
    '',
    '  Sandbox mode: a fake Microsoft 365 tenant (token endpoint + Exchange-like SMTP) on this machine.',
    '  No mail leaves it.',
    '',
    `  WebAdmin       ${url}`,
    `  Sign in        ${email}`,
    `  Password       ${password}`,
    `  Sent mail      ${sandbox.info.inspectUrl}/api/messages`,
    `  Email server   "${SANDBOX_ENTRY_NAME}" (the default) → ${sandbox.info.smtp.host}:${sandbox.info.smtp.port}, mailbox ${sandbox.info.mailbox}`,
    `  API key        ${sandbox.apiKey}`,
    '',
    '  Send from an application:',
    `  curl -sS ${url}/api/send -H 'Authorization: Bearer ${sandbox.apiKey}' -H 'Content-Type: application/json' -H 'Prefer: wait=30' -d '${message}'`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const settings = loadSettings(process.env, args);
  const logger = createJsonLogger({ level: settings.logLevel });
  if (args[0] === 'rotate-key') return rotate(settings, args.slice(1), logger);
  if (args[0] && !args[0].startsWith('--'))
    throw new Error(`Unknown command ${args[0]}; use rotate-key or no command`);
  return serve(settings, logger);
}

main().catch((error: unknown) => {
  const e = error as { code?: string; message?: string; hint?: string };
  console.error(`smtp-oauth-server: ${e.message ?? String(error)}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
  process.exit(1);
});
