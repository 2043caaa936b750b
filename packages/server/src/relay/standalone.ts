import { createMailer, type EmailServerConfig, type MailerOptions } from '@org/core';
import { createAuditTrail } from '../audit.js';
import { createLoginLimiter, defaultLoginRateLimit } from '../auth/rate-limit.js';
import { entryTokenCache } from '../entry-token-cache.js';
import { ServerError } from '../errors.js';
import { mailboxOf } from '../governor/limits.js';
import { createMemoryGovernor } from '../governor/memory.js';
import type { Governor } from '../governor/types.js';
import { ApiError } from '../http/errors.js';
import { coreLogger, type Logger, silentLogger } from '../logger.js';
import { outboxDriverFor } from '../outbox/index.js';
import { createOutbox, type DeliveryTarget, type Outbox, type OutboxOptions } from '../outbox/outbox.js';
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

/** The entry id the standalone relay's outbox rows carry: its one entry, from core's config. */
const STANDALONE_ENTRY_ID = 'config';

export interface StandaloneRelayOptions {
  /** The entry every device relays through, validated by core. */
  emailServer: EmailServerConfig;
  relay: RelayOptions;
  devices: unknown;
  /**
   * The state directory: the embedded SQLite file (outbox, counters, login throttle) and the
   * generated certificate. Messages queued here are delivered by the next start.
   */
  dataDir: string;
  /**
   * The outbox: retry schedule and lifetime, concurrency, poll interval (see {@link OutboxOptions});
   * `drainTimeoutMs`: at close, sends in flight get this long to finish. @default 10000
   */
  outbox?: Pick<OutboxOptions, 'schedule' | 'concurrency' | 'pollMs' | 'leaseMs'> & {
    drainTimeoutMs?: number;
  };
  /**
   * The per-mailbox governor (Exchange's limits for Microsoft hosts, the entry's `limits`
   * otherwise), in this process. `windowMs`: the per-minute window (@default 60000; shorter only in
   * tests). `enabled: false` turns it off.
   */
  governor?: { enabled?: boolean; windowMs?: number; lingerMs?: number };
  /** Shapes the entry's mailer (`timeouts`, `clientName`). */
  mailer?: Pick<MailerOptions, 'timeouts' | 'clientName'>;
  logger?: Logger;
  now?: () => Date;
}

/** A running standalone relay. */
export interface StandaloneRelay {
  relay: Relay;
  /** The embedded outbox (for status and tests). */
  outbox: Outbox;
  /**
   * Stops the listeners and the outbox: sends in flight get `drainTimeoutMs`, the rest stays queued
   * for the next start. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The relay without the server, on the server's code: the same listener, policy and counters
 * (`createRelay`), and the same durable outbox, driver and governor, embedded in a SQLite file in
 * `dataDir`. A device gets 250 only after its message is committed there; delivery goes through
 * the entry's mailer with the outbox's retry schedule, and whatever a stopped or killed process left
 * queued is delivered by the next start (a send cut by a kill or by the drain deadline after its
 * connection was open ends `unknown`, never re-sent unasked). Devices are the file's: on every start the stored ones are
 * replaced by it.
 * @throws ServerError `RELAY_CONFIG_INVALID` naming the device field and the fix.
 */
export async function startStandaloneRelay(options: StandaloneRelayOptions): Promise<StandaloneRelay> {
  const devices = parseDevices(options.devices);
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? silentLogger;
  const config = options.emailServer;
  const store = await openStore({ dataDir: options.dataDir }, logger);
  const governor: Governor | undefined =
    options.governor?.enabled === false
      ? undefined
      : createMemoryGovernor({ now: () => now().getTime(), ...options.governor });
  const target = entryTarget(config, {
    now,
    logger,
    governed: governor !== undefined,
    ...(options.mailer ? { mailer: options.mailer } : {}),
  });
  let relay: Relay | undefined;
  let outbox: Outbox | undefined;
  try {
    const repo = createRelayRepository(store.db);
    await syncDevices(repo, devices, now());
    const running = createOutbox({
      ...options.outbox,
      driver: outboxDriverFor(store.db),
      logger,
      now,
      // One process per state directory: rows another owner left in flight belong to a killed one.
      reclaimOthersAtStart: true,
      ...(governor ? { governor } : {}),
      async mailerFor(entryId) {
        if (entryId !== STANDALONE_ENTRY_ID)
          throw new ApiError(
            409,
            'EMAIL_SERVER_NOT_FOUND',
            `The message names entry "${entryId}", not this relay's`,
            {
              hint: 'Messages queued by a server cannot be delivered by the standalone relay; use a state directory of its own',
            },
          );
        return target.get();
      },
    });
    outbox = running;
    relay = createRelay(options.relay, {
      repo,
      entry: async () => ({
        id: STANDALONE_ENTRY_ID,
        config: config as unknown as Record<string, unknown>,
      }),
      // Accepted means committed: 250 only after the outbox stored the message.
      submitter: running,
      limiter: createLoginLimiter({
        repo: createThrottleRepository(store.db),
        now,
        policy: defaultLoginRateLimit,
      }),
      audit: createAuditTrail({ repo: createAuditRepository(store.db), now, logger }),
      logger,
      now,
    });
    await running.start();
    await relay.start();
    const listening = relay;
    let closing: Promise<void> | undefined;
    return {
      relay: listening,
      outbox: running,
      close() {
        closing ??= (async () => {
          // The outbox claims nothing more (a device still sending meanwhile gets 451 and retries
          // later) while the listeners end their sessions; then the mailer and the database close.
          await Promise.all([running.stop(options.outbox?.drainTimeoutMs ?? 10_000), listening.close()]);
          await target.close();
          await governor?.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await relay?.close();
    await outbox?.stop(0);
    await target.close();
    await governor?.close();
    await store.close();
    throw error;
  }
}

/**
 * The entry's delivery target, as the server builds it (entry-runtimes.ts) minus its S5/S6 guards
 * (the CLI's config is the operator's own): one token cache; a pooled mailer for an ungoverned
 * host; for a governed mailbox one-connection mailers the outbox keeps under the governor's
 * connection leases. The outbox owns retries: core retries nothing.
 */
function entryTarget(
  config: EmailServerConfig,
  options: {
    now: () => Date;
    logger: Logger;
    governed: boolean;
    mailer?: Pick<MailerOptions, 'timeouts' | 'clientName'>;
  },
): { get(): DeliveryTarget; close(): Promise<void> } {
  const log = coreLogger(options.logger);
  const coreNow = () => options.now().getTime();
  const tokens =
    config.auth.type === 'oauth2'
      ? entryTokenCache(config, { now: coreNow, ...(log ? { logger: log } : {}) })
      : undefined;
  const build = (single: boolean) =>
    createMailer(config, {
      retry: false,
      ...options.mailer,
      ...(single ? { limits: { maxConnections: 1, messagesPerMinute: 0 } } : {}),
      ...(tokens ? { tokenProvider: tokens } : {}),
      now: coreNow,
      ...(log ? { logger: log } : {}),
    });
  const mailbox = options.governed ? mailboxOf(config) : undefined;
  let pooled: ReturnType<typeof createMailer> | undefined;
  /** Governed connections in the middle of a send: shutdown cuts them (the outbox closes idle ones). */
  const sending = new Set<ReturnType<typeof createMailer>>();
  return {
    get() {
      pooled ??= build(false);
      if (!mailbox) return { mailer: pooled };
      // As the server does: the outbox holds each connection under one of the mailbox's leases and
      // reuses it, message after message, until it has been idle a moment.
      return {
        mailbox,
        mailer: pooled,
        connection: {
          entryId: STANDALONE_ENTRY_ID,
          key: STANDALONE_ENTRY_ID,
          async open() {
            const single = build(true);
            const tracked = async <T>(send: () => Promise<T>): Promise<T> => {
              sending.add(single);
              try {
                return await send();
              } finally {
                sending.delete(single);
              }
            };
            return {
              send: (m) => tracked(() => single.send(m)),
              sendRaw: (m) => tracked(() => single.sendRaw(m)),
              close: () => single.close(),
            };
          },
        },
      };
    },
    /** After the outbox's drain deadline: sends still running are cut (their rows stay in flight). */
    async close() {
      await Promise.all([...sending, ...(pooled ? [pooled] : [])].map((m) => m.close({ force: true })));
    },
  };
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
