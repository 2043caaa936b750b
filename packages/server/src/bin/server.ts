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
import { ServerError } from '../errors.js';
import { rotateKeys } from '../rotate.js';
import { storedEnvelopeKeyIds } from '../secrets/key-inventory.js';
import { type KeyRing, loadOrCreateKeyFile, parseKeyRing } from '../secrets/keyring.js';
import { SANDBOX_ENTRY_NAME, type SandboxMode } from '../sandbox.js';
import { createServer } from '../server.js';
import { openStore, type StoreOptions } from '../store/db.js';
import { existsSync, mkdirSync } from 'node:fs';
import { getProxyForUrl } from 'proxy-from-env';

/**
 * Token requests honour HTTPS_PROXY / https_proxy (or ALL_PROXY) and NO_PROXY, read by
 * proxy-from-env per token endpoint; an entry's own proxy.url wins. SMTP is never proxied.
 */
function environmentProxy(): ((url: string) => string | undefined) | undefined {
  const set = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'].some((k) => process.env[k]);
  return set ? (url) => getProxyForUrl(url) || undefined : undefined;
}

function storeOptions(s: ServerSettings): StoreOptions {
  return s.databaseUrl ? { databaseUrl: s.databaseUrl } : { dataDir: s.dataDir };
}

/**
 * The key ring: SMTP_OAUTH_KEYS, or the key file. A missing key file is created only while no secret
 * is stored: a new key over existing envelopes would leave every one of them unreadable.
 */
async function keyRing(s: ServerSettings, logger: Logger): Promise<KeyRing> {
  if (s.keys) return parseKeyRing(s.keys);
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(s.keyFile)) {
    const store = await openStore(storeOptions(s));
    try {
      const stored = await storedEnvelopeKeyIds(store.db);
      if (stored.size > 0)
        throw new ServerError(
          'KEYFILE_MISSING',
          `Key file ${s.keyFile} is missing, but stored secrets were encrypted under key ${[...stored.keys()].map((id) => `"${id}"`).join(', ')}`,
          {
            hint: `Restore ${s.keyFile} from your backup (mode 0600), or set SMTP_OAUTH_KEY_FILE / SMTP_OAUTH_KEYS to where the keys are. No new key was generated.`,
          },
        );
    } finally {
      await store.close();
    }
  }
  const { ring, created } = loadOrCreateKeyFile(s.keyFile, new Date());
  if (created)
    logger.warn('generated a new encryption key file; back it up — without it stored secrets are lost', {
      keyFile: s.keyFile,
    });
  return ring;
}

async function rotate(s: ServerSettings, args: string[], logger: Logger): Promise<void> {
  const ring = await keyRing(s, logger);
  const store = await openStore(storeOptions(s));
  try {
    const result = await rotateKeys(store, ring, {
      ...(s.keys ? {} : { keyFile: s.keyFile }),
      generate: args.includes('--generate'),
      prune: args.includes('--prune'),
      logger,
    });
    console.log(
      `Re-encrypted ${result.reencrypted} secret(s) under key "${result.ring.primary.id}" (${result.unchanged} already were).`,
    );
    if (result.pruned) console.log('Removed the old keys from the key file.');
  } finally {
    await store.close();
  }
}

function outboxOptions({ retryFirstDelayMs, ...rest }: ServerSettings['outbox']) {
  return { ...rest, ...(retryFirstDelayMs ? { schedule: { firstDelayMs: retryFirstDelayMs } } : {}) };
}

async function serve(s: ServerSettings, logger: Logger): Promise<void> {
  let sandboxPassword: string | undefined;
  const proxy = environmentProxy();
  const server = await createServer({
    store: storeOptions(s),
    keyRing: await keyRing(s, logger),
    ...(s.keys ? {} : { keyFile: s.keyFile }),
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
    ...(proxy ? { runtime: { proxy } } : {}),
    audit: { retentionDays: s.auditRetentionDays },
    smtp: { allowPrivateHosts: s.allowPrivateSmtpHosts },
    webhooks: s.webhooks,
    sandbox: s.sandbox,
    secureCookies: s.secureCookies,
    trustProxy: s.trustProxy,
    allowedOrigins: s.allowedOrigins,
    ...(s.adminUiDir ? { adminUiDir: s.adminUiDir } : {}),
    ...(s.relay ? { relay: s.relay } : {}),
    outbox: outboxOptions(s.outbox),
  });
  const { url } = await server.listen(s.port, s.host);
  logger.info('listening', { url, database: s.databaseUrl ? 'postgres' : 'sqlite', sandbox: s.sandbox });
  console.log(`smtp-oauth server on ${url}`);
  for (const l of server.relay?.status().listeners ?? []) {
    const fingerprint = server.relay?.status().certificate.fingerprintSha256;
    console.log(`SMTP relay on ${l.host}:${l.port} (${l.mode}), certificate SHA-256 ${fingerprint}`);
  }
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
