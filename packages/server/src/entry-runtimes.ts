import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { EmailServerConfig, MailerOptions, TokenProvider } from '@org/core';
import type { AppContext } from './context.js';
import { configOf } from './email-servers.js';
import { assertSmtpHostAllowed, assertTokenEndpointAllowed } from './guards/outbound.js';
import { ApiError } from './http/errors.js';
import type { HostedEntry, MailerHost, RemoteMailer } from './mailer-host/mailer-host.js';
import type { EmailServerRecord } from './store/email-servers-repository.js';

/**
 * What an entry needs at run time: its decrypted config, ONE token cache (so one MSAL client and
 * single-flight token requests, S10) and ONE pooled mailer, shared by every request. Both live in
 * the mailer host (this thread or the mailer worker); `tokens` asks the host's cache.
 */
export interface EntryRuntime {
  readonly id: string;
  readonly config: EmailServerConfig;
  readonly tokens: TokenProvider | undefined;
  /** The addresses the S6 guard checked; the mailer connects to the first one. */
  readonly addresses: readonly string[];
  readonly mailer: RemoteMailer;
  /** The entry in the mailer host: its config was handed over once, under this runtime's key. */
  readonly hosted: HostedEntry;
  /**
   * Mailers of ONE SMTP connection each, open until closed: a governed mailbox's connections, each
   * held under one of the governor's connection leases and reused for message after message
   * (outbox/leased-connections.ts). `key` names this runtime's version and checked address: a
   * connection opened under another key is not reused. They share the entry's token cache.
   */
  readonly single: { key: string; open(): Promise<RemoteMailer> };
}

/** Options that shape every mailer the server builds (tests and the benchmark set them). */
export interface RuntimeOptions {
  /** Passed to core's `createMailer` (`limits`, `retry`, `timeouts`, …). */
  mailer?: Pick<MailerOptions, 'limits' | 'retry' | 'timeouts' | 'clientName' | 'exchangeLimits'>;
  /**
   * How long a checked SMTP address is trusted before DNS is consulted (and the guard applied)
   * again. @default 300000
   */
  addressTtlMs?: number;
  /**
   * The environment's proxy for token requests (HTTPS_PROXY/NO_PROXY, from the entry point): the
   * proxy URL for a target URL, or `undefined` for direct. An entry's own `proxy.url` wins.
   */
  proxy?: (targetUrl: string) => string | undefined;
}

interface Slot {
  /** `record.id` + config version. */
  version: string;
  runtime: Promise<EntryRuntime>;
  /** When the SMTP host was last resolved and checked (ms). */
  checkedAt: number;
  recheck?: Promise<EntryRuntime>;
}

// The send path's lookup cache hands out the same record object for a while: hash it once.
const versions = new WeakMap<EmailServerRecord, string>();

/** Records change their config or secrets → a new version → a new runtime. */
function versionOf(record: EmailServerRecord): string {
  let version = versions.get(record);
  if (version === undefined) {
    version = createHash('sha256')
      .update(JSON.stringify([record.config, record.secrets]))
      .digest('base64url');
    versions.set(record, version);
  }
  return version;
}

/**
 * Keeps one runtime per entry and config version. Concurrent first requests share one build; an
 * update (here or on another instance sharing the database) yields a new version, and the old
 * runtime is closed once its sends finish.
 */
export function createEntryRuntimes(
  ctx: () => AppContext,
  options: RuntimeOptions = {},
  /** Where the mailers and token caches run: this thread or the mailer worker. */
  host: MailerHost,
) {
  const slots = new Map<string, Slot>();
  const ttl = options.addressTtlMs ?? 300_000;
  let closed = false;

  /** S5 + S6 again at use time: the operator's policy may be stricter now, DNS may have moved. */
  async function check(config: EmailServerConfig): Promise<string[]> {
    const c = ctx();
    try {
      if (config.auth.type === 'oauth2')
        assertTokenEndpointAllowed(config.auth.tokenEndpoint, 'auth.tokenEndpoint', c.tokenPolicy);
      return await assertSmtpHostAllowed(config.host, config.port, 'host', c.smtpHostPolicy);
    } catch (error) {
      // At send time this is the entry's problem, not the caller's request.
      if (error instanceof ApiError)
        throw new ApiError(409, error.code, `The stored entry is not usable: ${error.message}`, {
          ...(error.hint ? { hint: error.hint } : {}),
          ...(error.issues ? { issues: error.issues } : {}),
        });
      throw error;
    }
  }

  async function buildMailer(
    hosted: HostedEntry,
    config: EmailServerConfig,
    address: string,
    single = false,
  ): Promise<RemoteMailer> {
    // S6: connect to the address the guard checked; TLS still verifies the host name.
    const connectAddress = isIP(config.host) ? undefined : address;
    // The outbox owns retries (its schedule, its attempt records): core retries nothing on its own
    // unless the server is configured to. A single-connection mailer leaves pacing to the governor.
    const mailerOptions = {
      retry: false as const,
      ...options.mailer,
      ...(single ? { limits: { maxConnections: 1, messagesPerMinute: 0 } } : {}),
    };
    return hosted.open({ connectAddress, options: mailerOptions });
  }

  /**
   * The entry as its token client and mailer use it: with the environment's proxy for the token
   * endpoint when the entry names none. Resolved here to a URL, so it reaches the mailer thread
   * with the config; the stored and shown config stays as the admin wrote it.
   */
  function withEnvironmentProxy(config: EmailServerConfig): EmailServerConfig {
    if (config.proxy || config.auth.type !== 'oauth2' || !options.proxy) return config;
    const url = options.proxy(config.auth.tokenEndpoint);
    return url ? { ...config, proxy: { url } } : config;
  }

  async function build(record: EmailServerRecord, key: string): Promise<EntryRuntime> {
    const config = configOf(ctx(), record);
    const addresses = await check(config);
    const effective = withEnvironmentProxy(config);
    const hosted = host.entry(key, effective);
    let mailer: RemoteMailer;
    try {
      mailer = await buildMailer(hosted, effective, addresses[0]!);
    } catch (error) {
      hosted.release();
      throw error;
    }
    return {
      id: record.id,
      config,
      tokens: hosted.tokens,
      addresses,
      mailer,
      hosted,
      single: singleThrough(key, hosted, effective, addresses[0]!),
    };
  }

  /**
   * One-connection mailers (the governor's connections), to the given checked address. Rebuilt
   * with the pooled mailer when the address changes (regression: it kept the first address, so a
   * governed send went to an address the S6 re-check no longer vouched for); the new key retires
   * connections to the old address.
   */
  function singleThrough(
    key: string,
    hosted: HostedEntry,
    config: EmailServerConfig,
    address: string,
  ): EntryRuntime['single'] {
    return { key: `${key}@${address}`, open: () => buildMailer(hosted, config, address, true) };
  }

  /** Re-resolves after the TTL; keeps the mailer while its address is still among the checked ones. */
  async function recheck(slot: Slot, current: EntryRuntime): Promise<EntryRuntime> {
    const addresses = await check(current.config);
    if (isIP(current.config.host) || addresses.includes(current.addresses[0]!)) {
      return { ...current, addresses };
    }
    const effective = withEnvironmentProxy(current.config);
    const next = {
      ...current,
      addresses,
      mailer: await buildMailer(current.hosted, effective, addresses[0]!),
      single: singleThrough(slot.version, current.hosted, effective, addresses[0]!),
    };
    void current.mailer.close();
    slot.runtime = Promise.resolve(next);
    return next;
  }

  function retire(slot: Slot | undefined): void {
    // Sends in progress finish first (core's close), so a concurrent update never cuts a message.
    slot?.runtime.then(
      (r) => r.mailer.close().finally(() => r.hosted.release()),
      () => {},
    );
  }

  return {
    /** The runtime of a stored entry, built on first use and shared afterwards. */
    async get(record: EmailServerRecord): Promise<EntryRuntime> {
      if (closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The server is shutting down');
      const version = `${record.id}:${versionOf(record)}`;
      let slot = slots.get(record.id);
      if (!slot || slot.version !== version) {
        retire(slot);
        const runtime = build(record, version);
        slot = { version, runtime, checkedAt: Date.now() };
        slots.set(record.id, slot);
        const mine = slot;
        // A failed build (bad entry, refused host) is not cached: the next request tries again.
        runtime.catch(() => {
          if (slots.get(record.id) === mine) slots.delete(record.id);
        });
        return runtime;
      }
      if (Date.now() - slot.checkedAt > ttl) {
        const s = slot;
        s.checkedAt = Date.now();
        s.recheck ??= s.runtime
          .then((current) => recheck(s, current))
          .finally(() => {
            s.recheck = undefined;
          });
        return s.recheck;
      }
      return slot.runtime;
    },
    /** Drops an entry's runtime (updated or deleted here); its mailer closes after in-flight sends. */
    invalidate(id: string): void {
      retire(slots.get(id));
      slots.delete(id);
    },
    /** Closes every mailer (shutdown). Sends in progress finish first. */
    async closeAll(): Promise<void> {
      closed = true;
      const all = [...slots.values()];
      slots.clear();
      await Promise.allSettled(all.map(async (s) => (await s.runtime).mailer.close()));
      await host.close();
    },
    /** The mailer host answers (readiness). */
    alive(): Promise<boolean> {
      return closed ? Promise.resolve(false) : host.alive();
    },
    /** The environment's proxy for token requests (the doctor names the route a token takes). */
    proxy: options.proxy,
    /** Number of live runtimes (tests). */
    get size(): number {
      return slots.size;
    },
  };
}

export type EntryRuntimes = ReturnType<typeof createEntryRuntimes>;
