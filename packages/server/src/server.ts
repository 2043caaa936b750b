import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express } from 'express';
import { createApp } from './app.js';
import { type AuditPolicy, createAuditTrail } from './audit.js';
import {
  createDummyHash,
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  type ScryptParams,
} from './auth/passwords.js';
import { createLoginLimiter, defaultLoginRateLimit, type LoginRateLimitPolicy } from './auth/rate-limit.js';
import { createSessionManager, defaultSessionPolicy, type SessionPolicy } from './auth/sessions.js';
import type { AppContext } from './context.js';
import { createEntryRuntimes, type RuntimeOptions } from './entry-runtimes.js';
import { createLookupCache } from './lookup-cache.js';
import { createMailerHost } from './mailer-host/host.js';
import { createInThreadMailerHost } from './mailer-host/in-thread.js';
import { createRelay, type Relay, type RelayOptions } from './relay/relay.js';
import { createRelayRepository } from './store/relay-repository.js';
import { ApiError } from './http/errors.js';
import { mailboxOf } from './governor/limits.js';
import { createMemoryGovernor } from './governor/memory.js';
import { createPostgresGovernor } from './governor/postgres.js';
import type { Governor } from './governor/types.js';
import { openOutboxEngine } from './outbox/index.js';
import { createOutbox, type Outbox, type OutboxOptions } from './outbox/outbox.js';
import { createWebhookDispatcher, type WebhookDispatcherOptions } from './webhooks/dispatcher.js';
import { DEFAULT_TOKEN_HOSTS, defaultResolveHost, endpointKey, type ResolveHost } from './guards/outbound.js';
import { coreLogger, createJsonLogger, type Logger } from './logger.js';
import { createServerMetrics } from './routes/metrics.js';
import type { KeyRing } from './secrets/keyring.js';
import { startKeyRing } from './secrets/live-keyring.js';
import { assertConfiguredPassword } from './auth/password-policy.js';
import { openStore, type StoreOptions } from './store/db.js';
import { createRepositories } from './store/repositories.js';
import {
  createSandboxApiKey,
  type SandboxMode,
  type SandboxModeOptions,
  seedSandboxEntry,
  startTestkit,
  createPracticeCredentials,
} from './sandbox.js';

/** Options of {@link createServer}. Every external effect enters here; nothing reads `process.env`. */
export interface CreateServerOptions {
  /** Database: `{ dataDir }` (SQLite file, created on first start), `{ databaseUrl }` (PostgreSQL) or `{ kysely }`. */
  store: StoreOptions;
  /** Key-encryption keys for secrets at rest; the first encrypts. */
  keyRing: KeyRing;
  /** The key file `keyRing` came from: followed, so a rotated key is taken up while running. */
  keyFile?: string;
  /** Denied-request aggregation and limit, audit retention (default 90 days). */
  audit?: Partial<AuditPolicy>;
  /** Clock. @default () => new Date() */
  now?: () => Date;
  /** Structured logger; receives ids, codes and timings only. @default JSON lines on stdout */
  logger?: Logger;
  /** First-start admin account (used only while no admin exists). */
  admin?: {
    /** @default 'admin@localhost' */
    email?: string;
    /** When absent a one-time password is generated and handed to `onGeneratedPassword`. */
    password?: string;
    /** Receives a generated password once; the entry point prints it. It is never logged. */
    onGeneratedPassword?: (email: string, password: string) => void;
  };
  /** Token endpoint hosts allowed in addition to Microsoft's (S5). The API cannot widen this list. */
  tokenHostAllowlist?: readonly string[];
  /** SMTP destination policy (S6). */
  smtp?: {
    /** Allow loopback/private/link-local destinations. @default false */
    allowPrivateHosts?: boolean;
    /** Individual addresses allowed despite their class. */
    allowedAddresses?: readonly string[];
    /** DNS seam. @default dns.lookup (all addresses) */
    resolveHost?: ResolveHost;
  };
  /**
   * Sandbox mode: starts the testkit's sandbox (a fake Microsoft 365 tenant), allows exactly its
   * token endpoint origin and SMTP address:port (no blanket loopback allowance), seeds the entry
   * "Sandbox (Microsoft 365 emulator)" as the default, and sets the admin password on every start
   * (the configured one, or a new one handed to `onGeneratedPassword`). @default false
   * @remarks For trying the product: give it its own data directory.
   */
  sandbox?: boolean | SandboxModeOptions;
  /**
   * How long the send API may reuse an API-key or entry lookup. Changes made through this instance
   * apply at once; with several instances on one database, another instance's revocation or edit
   * applies within this time. 0 turns the cache off. @default 1000
   */
  lookupCacheMs?: number;
  /** Shapes the mailers built for entries (limits, retries, timeouts, the S6 re-check interval). */
  runtime?: RuntimeOptions;
  /**
   * Run the entries' pooled mailers and token caches in a worker thread, so SMTP, TLS and
   * nodemailer work runs in parallel with the HTTP handling instead of on the same thread. `false`
   * keeps them on the main thread. @default true
   */
  mailerThread?: boolean;
  /**
   * The mailer thread's watchdog: a call not answered within this fails with `MAILER_CALL_TIMEOUT`
   * and the thread is replaced. @default 180000
   */
  mailerCallTimeoutMs?: number;
  /** `Secure` cookies: true, false, or 'auto' (when the request is https). @default 'auto' */
  secureCookies?: boolean | 'auto';
  /** express `trust proxy` (for X-Forwarded-Proto/For behind a reverse proxy). @default false */
  trustProxy?: boolean | number | string;
  /** Built admin UI; `false` serves none. @default the `@org/admin-ui` package's dist */
  adminUiDir?: string | false;
  /** Extra origins accepted by the CSRF check (e.g. a Vite dev server). @default [] */
  allowedOrigins?: readonly string[];
  /** JSON body limit. @default '1mb' (certificate and PFX uploads fit) */
  bodyLimit?: string;
  session?: Partial<SessionPolicy>;
  loginRateLimit?: Partial<LoginRateLimitPolicy>;
  /**
   * scrypt cost for new password hashes (existing hashes keep theirs).
   * @default { N: 2 ** 15, r: 8, p: 3 }
   * @remarks Lower only in tests.
   */
  passwordHashing?: ScryptParams;
  /** After this, connections still open at shutdown are cut. @default 10000 */
  shutdownTimeoutMs?: number;
  /** The SMTP relay for devices (started with the server when set). @default off */
  relay?: RelayOptions;
  /**
   * The outbox's delivery: retry schedule and lifetime, concurrency, lease, poll interval, retention
   * (see {@link OutboxOptions}); `deliver: false` only accepts (an API-only instance).
   * `drainTimeoutMs`: at shutdown, sends in flight get this long to finish. @default 10000
   */
  outbox?: Pick<
    OutboxOptions,
    'schedule' | 'concurrency' | 'leaseMs' | 'pollMs' | 'retentionMs' | 'instanceId'
  > & { deliver?: boolean; drainTimeoutMs?: number };
  /**
   * The governor of per-mailbox limits (Exchange's for Microsoft hosts; an entry's `limits`
   * otherwise): in process with SQLite, across instances with PostgreSQL. `windowMs` is the
   * per-minute window (@default 60000; shorter only in tests), `leaseMs` a connection lease's life
   * without heartbeat (@default 30000), `idleMs` how long a governed mailbox's idle SMTP connection
   * stays open (and leased) for the next message (@default 1500). `enabled: false` turns it off.
   */
  governor?: { enabled?: boolean; windowMs?: number; leaseMs?: number; lingerMs?: number; idleMs?: number };
  /**
   * API keys' webhooks: where they may post (S6 rules: https to public addresses unless the
   * operator allows more), the per-request timeout, the retry delays, and `deliver: false` to only
   * queue events (another instance delivers them).
   */
  webhooks?: Pick<WebhookDispatcherOptions, 'timeoutMs' | 'retryDelaysMs' | 'pollMs' | 'concurrency'> & {
    /** Allow `http:` webhook URLs. @default false */
    allowHttp?: boolean;
    /** Allow loopback/private/link-local targets. @default false */
    allowPrivateTargets?: boolean;
    /** Individual addresses allowed despite their class. */
    allowedAddresses?: readonly string[];
    /** DNS seam. @default `smtp.resolveHost`, else dns.lookup */
    resolveHost?: ResolveHost;
    /** @default true */
    deliver?: boolean;
  };
}

/** A listening server. */
export interface ListeningServer {
  /** e.g. `http://127.0.0.1:8025` */
  url: string;
  close(): Promise<void>;
}

/** The server: an express app over an open store. */
export interface SmtpOAuthServer {
  app: Express;
  /** Route dependencies (store, repositories, key ring) — for the entry point and tests. */
  context: AppContext;
  /** Sandbox mode's testkit and seeded entry, when `sandbox` is on. */
  sandbox: SandboxMode | undefined;
  /** The SMTP relay, when `relay` is configured (already listening). */
  relay: Relay | undefined;
  listen(port: number, host?: string): Promise<ListeningServer>;
  /** Stops listening, lets in-flight requests finish, closes the mailers, the sandbox and the database. Idempotent. */
  close(): Promise<void>;
}

/** Where the built admin UI lives, if the package is installed and built. */
export function defaultAdminUiDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@org/admin-ui/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * Opens the store (running migrations), creates the first admin if none exists, and builds the
 * app. Call `listen()` to serve it.
 *
 * @example
 * const server = await createServer({ store: { dataDir: './.data' }, keyRing });
 * const { url } = await server.listen(8025, '127.0.0.1');
 */
export async function createServer(options: CreateServerOptions): Promise<SmtpOAuthServer> {
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? createJsonLogger({ now });
  const store = await openStore(options.store, logger);
  const metrics = createServerMetrics(now);
  const sandboxOptions = options.sandbox === true ? {} : options.sandbox || undefined;
  let testkit: Awaited<ReturnType<typeof startTestkit>> | undefined;
  let runtimes: AppContext['runtimes'] | undefined;
  let relay: Relay | undefined;
  let keys: Awaited<ReturnType<typeof startKeyRing>> | undefined;
  let governor: Governor | undefined;
  let engine: Awaited<ReturnType<typeof openOutboxEngine>> | undefined;
  try {
    keys = await startKeyRing({ db: store.db, ring: options.keyRing, keyFile: options.keyFile, now, logger });
    testkit = sandboxOptions ? await startTestkit(sandboxOptions) : undefined;
    const repos = createRepositories(store.db);
    const sessionPolicy = { ...defaultSessionPolicy, ...options.session };
    // S5: where token requests may go — the configured endpoint and every URL a token client contacts.
    const tokenPolicy: AppContext['tokenPolicy'] = {
      hosts: new Set(
        [...DEFAULT_TOKEN_HOSTS, ...(options.tokenHostAllowlist ?? [])].map((h) =>
          h.toLowerCase().replace(/\.$/, ''),
        ),
      ),
      // Sandbox: the testkit's token endpoint exactly (scheme, loopback address and port).
      origins: new Set(testkit ? [new URL(testkit.info.tokenEndpoint).origin] : []),
    };
    const context: AppContext = {
      store,
      repos,
      keyRing: keys.ring,
      now,
      logger,
      sessions: createSessionManager({ repo: repos.sessions, now, policy: sessionPolicy }),
      sessionPolicy,
      limiter: createLoginLimiter({
        repo: repos.throttle,
        now,
        policy: { ...defaultLoginRateLimit, ...options.loginRateLimit },
      }),
      audit: createAuditTrail({
        repo: repos.audit,
        now,
        logger,
        ...(options.audit ? { policy: options.audit } : {}),
      }),
      dummyHash: await createDummyHash(options.passwordHashing ?? DEFAULT_SCRYPT),
      passwordHashing: options.passwordHashing ?? DEFAULT_SCRYPT,
      cookie: { secure: options.secureCookies ?? 'auto' },
      tokenPolicy,
      smtpHostPolicy: {
        allowPrivate: options.smtp?.allowPrivateHosts ?? false,
        allowedAddresses: new Set(options.smtp?.allowedAddresses ?? []),
        allowedEndpoints: new Set(
          testkit ? [endpointKey(testkit.info.smtp.host, testkit.info.smtp.port)] : [],
        ),
        resolve: options.smtp?.resolveHost ?? defaultResolveHost,
      },
      adminUiDir: options.adminUiDir === false ? undefined : (options.adminUiDir ?? defaultAdminUiDir()),
      allowedOrigins: options.allowedOrigins ?? [],
      bodyLimit: options.bodyLimit ?? '1mb',
      trustProxy: options.trustProxy ?? false,
      runtimes: createEntryRuntimes(
        () => context,
        options.runtime,
        options.mailerThread === false
          ? createInThreadMailerHost({
              now: () => now().getTime(),
              logger: coreLogger(logger),
              onTokenRequest: (outcome) => metrics.tokenRequest(outcome),
              tokenPolicy,
            })
          : createMailerHost({
              logger,
              now: () => now().getTime(),
              onTokenRequest: (outcome) => metrics.tokenRequest(outcome),
              tokenPolicy,
              ...(options.mailerCallTimeoutMs ? { callTimeoutMs: options.mailerCallTimeoutMs } : {}),
            }),
      ),
      ...(testkit ? { practice: createPracticeCredentials(testkit) } : {}),
      outbox: undefined as unknown as Outbox,
      webhookPolicy: {
        allowHttp: options.webhooks?.allowHttp ?? false,
        allowPrivate: options.webhooks?.allowPrivateTargets ?? false,
        allowedAddresses: new Set(options.webhooks?.allowedAddresses ?? []),
        resolve: options.webhooks?.resolveHost ?? options.smtp?.resolveHost ?? defaultResolveHost,
      },
      webhooks: undefined as unknown as AppContext['webhooks'],
      metrics,
      lookups: {
        apiKeys: createLookupCache(options.lookupCacheMs ?? 1000),
        emailServers: createLookupCache(options.lookupCacheMs ?? 1000),
      },
    };
    runtimes = context.runtimes;
    await context.audit.cleanup();
    const governorOptions = { now: () => now().getTime(), ...options.governor };
    governor =
      options.governor?.enabled === false
        ? undefined
        : store.sqliteFile !== undefined
          ? createMemoryGovernor(governorOptions)
          : createPostgresGovernor(store.db, governorOptions);
    if (governor) context.governor = governor;
    const {
      allowHttp: _h,
      allowPrivateTargets: _p,
      allowedAddresses: _a,
      resolveHost: _r,
      deliver: _d,
      ...hookTuning
    } = options.webhooks ?? {};
    const liveRing = keys.ring;
    context.webhooks = createWebhookDispatcher({
      ...hookTuning,
      db: store.db,
      keyRing: () => liveRing,
      policy: context.webhookPolicy,
      logger,
      now,
      reclaimOthersAtStart: store.sqliteFile !== undefined,
    });
    const webhooks = context.webhooks;
    // SQLite: the outbox's own claim; PostgreSQL: pg-boss (see outbox/pgboss.ts). Webhook events are
    // written in the transaction of the final state: none is lost between the two.
    engine = await openOutboxEngine(store.db, {
      logger,
      leaseMs: options.outbox?.leaseMs,
      hooks: { onFinal: (trx, ids, at) => webhooks.enqueueFinal(trx, ids, at) },
    });
    context.outbox = createOutbox({
      ...options.outbox,
      driver: engine.driver,
      logger,
      now,
      reclaimOthersAtStart: store.sqliteFile !== undefined,
      ...(governor ? { governor } : {}),
      ...(options.governor?.idleMs !== undefined ? { connectionIdleMs: options.governor.idleMs } : {}),
      onAttempt: (_entry, outcome, code) => metrics.attempt(outcome, code),
      async mailerFor(entryId) {
        const record = await context.lookups.emailServers.get(`ref:${entryId}`, () =>
          repos.emailServers.get(entryId),
        );
        if (!record)
          throw new ApiError(
            404,
            'EMAIL_SERVER_NOT_FOUND',
            'The email-server entry of this message was deleted',
            {
              hint: 'Submit the message again through an existing entry',
            },
          );
        const runtime = await context.runtimes.get(record);
        const mailbox = governor ? mailboxOf(runtime.config) : undefined;
        if (!mailbox) return { mailer: runtime.mailer };
        return { mailbox, mailer: runtime.mailer, connection: { entryId: record.id, ...runtime.single } };
      },
    });
    await ensureAdmin(context, options.admin, options.passwordHashing ?? DEFAULT_SCRYPT, !!testkit);
    const sandbox: SandboxMode | undefined =
      testkit && sandboxOptions
        ? {
            sandbox: testkit,
            info: testkit.info,
            entryId: await seedSandboxEntry(context, testkit, sandboxOptions),
            apiKey: await createSandboxApiKey(context),
          }
        : undefined;
    if (options.relay) {
      relay = createRelay(options.relay, {
        repo: createRelayRepository(store.db),
        async entry(id) {
          // The send API's short-lived entry cache (cleared by every local change to entries).
          const record = id
            ? await context.lookups.emailServers.get(`id:${id}`, () => repos.emailServers.get(id))
            : await context.lookups.emailServers.get('default', () => repos.emailServers.getDefault());
          return record ? { id: record.id, config: record.config } : undefined;
        },
        // Accepted means committed: the relay answers 250 only after the outbox stored the message.
        submitter: context.outbox,
        limiter: createLoginLimiter({
          repo: repos.throttle,
          now,
          policy: { ...defaultLoginRateLimit, ...options.loginRateLimit },
        }),
        audit: context.audit,
        logger,
        now,
      });
      context.relay = relay;
      await relay.start();
    }
    metrics.attach({ outbox: context.outbox, governor });
    const app = createApp(context);
    if (options.outbox?.deliver !== false) await context.outbox.start();
    if (options.webhooks?.deliver !== false) await context.webhooks.start();

    const listening = new Set<{ close(): Promise<void> }>();
    let closing: Promise<void> | undefined;

    return {
      app,
      context,
      sandbox,
      relay,
      listen(port, host = '127.0.0.1') {
        return new Promise<ListeningServer>((resolve, reject) => {
          const http = createHttpServer(app);
          // Once shutdown starts, a keep-alive connection is closed as soon as its last response is out,
          // instead of lingering until the client's keep-alive timeout.
          http.on('request', (_req, res) => {
            res.on('finish', () => {
              if (!http.listening) setImmediate(() => http.closeIdleConnections());
            });
          });
          http.once('error', reject);
          http.listen(port, host, () => {
            http.off('error', reject);
            const address = http.address() as AddressInfo;
            const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
            const handle = {
              url: `http://${shown}:${address.port}`,
              close: () => stopHttp(http, options.shutdownTimeoutMs ?? 10_000),
            };
            listening.add(handle);
            resolve(handle);
          });
        });
      },
      close() {
        closing ??= (async () => {
          // The outbox stops claiming at once and lets in-flight sends finish; meanwhile the API
          // still listens and answers 503 + Retry-After (not a dropped connection). Then HTTP stops.
          await context.outbox.stop(options.outbox?.drainTimeoutMs ?? 10_000);
          await context.webhooks.stop();
          await Promise.all([...listening].map((l) => l.close()));
          await relay?.close();
          await context.runtimes.closeAll();
          await governor?.close();
          await testkit?.close();
          await keys?.stop();
          await context.audit.close();
          await engine?.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await relay?.close();
    await runtimes?.closeAll();
    await governor?.close();
    await testkit?.close();
    await keys?.stop();
    await engine?.close();
    await store.close();
    throw error;
  }
}

/** Graceful stop: refuse new connections, let in-flight requests finish, drop idle keep-alives. */
function stopHttp(http: HttpServer, timeoutMs: number): Promise<void> {
  if (!http.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => http.closeAllConnections(), timeoutMs);
    timer.unref();
    http.close(() => {
      clearTimeout(timer);
      resolve();
    });
    http.closeIdleConnections();
  });
}

async function ensureAdmin(
  ctx: AppContext,
  admin: CreateServerOptions['admin'],
  params: ScryptParams,
  sandbox: boolean,
): Promise<void> {
  const email = admin?.email ?? 'admin@localhost';
  if (sandbox) {
    // A sandbox start must always print credentials that work, so its admin's password is set anew.
    const existing = await ctx.repos.admins.findByEmail(email);
    if (existing) {
      assertConfiguredPassword(admin?.password, email);
      const password = admin?.password ?? generatePassword();
      await ctx.repos.admins.setPassword(existing.id, await hashPassword(password, params), ctx.now());
      await ctx.audit.record({
        actor: 'system:sandbox',
        action: 'admin.password-reset',
        target: email,
        fields: ['password'],
        outcome: 'ok',
      });
      if (!admin?.password) admin?.onGeneratedPassword?.(email, password);
      return;
    }
  }
  if ((await ctx.repos.admins.count()) > 0) return;
  assertConfiguredPassword(admin?.password, email);
  const password = admin?.password ?? generatePassword();
  await ctx.repos.admins.create({ email, passwordHash: await hashPassword(password, params), at: ctx.now() });
  await ctx.audit.record({
    actor: 'system',
    action: 'admin.bootstrap',
    target: email,
    fields: ['password'],
    outcome: 'ok',
  });
  if (!admin?.password) admin?.onGeneratedPassword?.(email, password);
  ctx.logger.info('admin account created', {
    email,
    passwordSource: admin?.password ? 'configured' : 'generated',
  });
}
