import { randomUUID } from 'node:crypto';
import { createMailer, type EmailServerConfig } from '@org/core';
import { createAuditTrail } from '../audit.js';
import { createLoginLimiter, defaultLoginRateLimit } from '../auth/rate-limit.js';
import { ServerError } from '../errors.js';
import { coreLogger, type Logger, silentLogger } from '../logger.js';
import { createAuditRepository } from '../store/audit-repository.js';
import { openStore } from '../store/db.js';
import { createRelayRepository, type RelayDeviceRow } from '../store/relay-repository.js';
import { createThrottleRepository } from '../store/throttle-repository.js';
import { allowListEntryProblem } from './allow-list.js';
import { createRelay, type Relay, type RelayOptions } from './relay.js';

/** A device of the standalone relay, as written in its devices file. */
export interface StandaloneDevice {
  name: string;
  username: string;
  /** SHA-256 of the generated password, base64url (`smtp-oauth relay --new-password` prints both). */
  passwordSha256: string;
  allowedIps?: string[];
  allowedSenders?: string[];
  /** @default 'enforce' */
  fromPolicy?: 'enforce' | 'rewrite';
  maxRecipientsPerMessage?: number;
  maxRecipientsPerDay?: number;
  maxMessageBytes?: number;
}

export interface StandaloneRelayOptions {
  /** The entry every device relays through, validated by core. */
  emailServer: EmailServerConfig;
  relay: RelayOptions;
  devices: unknown;
  /** Where the embedded SQLite file keeps counters and the login throttle. */
  dataDir: string;
  logger?: Logger;
  now?: () => Date;
}

/**
 * The relay without the server: the same listener, policy and counters (`createRelay`), with the
 * devices from a file and one entry from core's config. Devices are the file's: on every start the
 * stored ones are replaced by it. Messages go straight to the entry's mailer (`sendRaw`), answering
 * 250 after the email server accepted — there is no outbox in this mode.
 * @throws ServerError `RELAY_CONFIG_INVALID` naming the device field and the fix.
 */
export async function startStandaloneRelay(
  options: StandaloneRelayOptions,
): Promise<{ relay: Relay; close(): Promise<void> }> {
  const devices = parseDevices(options.devices);
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? silentLogger;
  const store = await openStore({ dataDir: options.dataDir }, logger);
  const log = coreLogger(logger);
  const mailer = createMailer(options.emailServer, { ...(log ? { logger: log } : {}) });
  try {
    const repo = createRelayRepository(store.db);
    await syncDevices(repo, devices, now());
    const relay = createRelay(options.relay, {
      repo,
      entry: async () => ({
        id: 'config',
        config: options.emailServer as unknown as Record<string, unknown>,
      }),
      submitter: {
        async submit(submission) {
          if (submission.content.kind !== 'raw') throw new Error('raw MIME only');
          const { raw, envelope } = submission.content;
          await mailer.sendRaw({ raw, envelope, messageId: submission.messageId });
          return { id: randomUUID(), messageId: submission.messageId, status: 'sent', duplicate: false };
        },
      },
      limiter: createLoginLimiter({
        repo: createThrottleRepository(store.db),
        now,
        policy: defaultLoginRateLimit,
      }),
      audit: createAuditTrail({ repo: createAuditRepository(store.db), now, logger }),
      logger,
      now,
    });
    await relay.start();
    return {
      relay,
      async close() {
        await relay.close();
        await mailer.close();
        await store.close();
      },
    };
  } catch (error) {
    await mailer.close();
    await store.close();
    throw error;
  }
}

function invalid(path: string, message: string): never {
  throw new ServerError('RELAY_CONFIG_INVALID', `devices${path}: ${message}`, {
    hint: 'Each device needs name, username and passwordSha256 (from `smtp-oauth relay --new-password`)',
  });
}

function parseDevices(input: unknown): StandaloneDevice[] {
  if (!Array.isArray(input)) invalid('', 'must be a list of devices');
  const seen = new Set<string>();
  return input.map((d: Record<string, unknown>, i) => {
    const at = `[${i}]`;
    if (typeof d !== 'object' || d === null) invalid(at, 'must be an object');
    for (const key of ['name', 'username', 'passwordSha256'] as const)
      if (typeof d[key] !== 'string' || !(d[key] as string).trim()) invalid(`${at}.${key}`, 'is required');
    if (!/^[A-Za-z0-9_-]{43}$/.test(d.passwordSha256 as string))
      invalid(
        `${at}.passwordSha256`,
        'must be the base64url SHA-256 that --new-password prints (43 characters)',
      );
    if (seen.has(d.username as string)) invalid(`${at}.username`, 'is used by another device');
    seen.add(d.username as string);
    const list = (key: string) => {
      const v = d[key] ?? [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        invalid(`${at}.${key}`, 'must be a list of strings');
      return v as string[];
    };
    for (const [j, ip] of list('allowedIps').entries()) {
      const problem = allowListEntryProblem(ip);
      if (problem) invalid(`${at}.allowedIps[${j}]`, problem);
    }
    if (d.fromPolicy !== undefined && d.fromPolicy !== 'enforce' && d.fromPolicy !== 'rewrite')
      invalid(`${at}.fromPolicy`, 'must be "enforce" or "rewrite"');
    for (const key of ['maxRecipientsPerMessage', 'maxRecipientsPerDay', 'maxMessageBytes'])
      if (d[key] !== undefined && !(Number.isInteger(d[key]) && (d[key] as number) > 0))
        invalid(`${at}.${key}`, 'must be a positive whole number');
    return d as unknown as StandaloneDevice;
  });
}

async function syncDevices(
  repo: ReturnType<typeof createRelayRepository>,
  devices: StandaloneDevice[],
  at: Date,
): Promise<void> {
  for (const old of await repo.list()) await repo.remove(old.id);
  const iso = at.toISOString();
  for (const d of devices) {
    const row: RelayDeviceRow = {
      id: `file-${d.username}`,
      name: d.name,
      username: d.username,
      password_hash: d.passwordSha256,
      entry_id: null,
      allowed_ips_json: JSON.stringify(d.allowedIps ?? []),
      allowed_senders_json: JSON.stringify((d.allowedSenders ?? []).map((s) => s.toLowerCase())),
      from_policy: d.fromPolicy ?? 'enforce',
      max_recipients_per_message: d.maxRecipientsPerMessage ?? null,
      max_recipients_per_day: d.maxRecipientsPerDay ?? null,
      max_message_bytes: d.maxMessageBytes ?? null,
      enabled: 1,
      created_at: iso,
      created_by: 'devices-file',
      updated_at: iso,
      last_used_at: null,
      last_error_at: null,
      last_error: null,
    };
    await repo.insert(row);
  }
}
