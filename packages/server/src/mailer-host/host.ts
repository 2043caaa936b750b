import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AccessToken, EmailServerConfig, SendResult } from '@org/core';
import type { TokenEndpointPolicy } from '../guards/outbound.js';
import type { Logger, LogLevel } from '../logger.js';
import type { HostedEntry, MailerHost, RemoteMailer } from './mailer-host.js';
import { fromWire, type HostMessage, type WorkerMailerOptions, type WorkerMessage } from './protocol.js';

export type { RemoteMailer } from './mailer-host.js';

/** An entry as the host remembers it, to hand it to a replacement worker. */
interface EntryRecord {
  key: string;
  config: EmailServerConfig;
  /** The worker generation that has it; -1 when none has. */
  generation: number;
}

interface LiveMailer {
  entry: EntryRecord;
  connectAddress: string | undefined;
  options: WorkerMailerOptions;
  generation: number;
}

export interface MailerHostOptions {
  /** Receives the worker's log records (core's, redacted); only its enabled levels are forwarded. */
  logger: Logger;
  /** The server's clock, ms. */
  now: () => number;
  /**
   * Watchdog: a call into the thread not answered within this (ms) fails with
   * `MAILER_CALL_TIMEOUT`, and the thread is replaced (its other calls fail; their mailers reopen in
   * the new thread). Longer than core's own connection + socket timeouts, so it fires only on a
   * hung thread. @default 180000
   */
  callTimeoutMs?: number;
  /** Each request the worker's token caches make to a token endpoint: `ok` or the catalog code. */
  onTokenRequest?: (outcome: string) => void;
  /**
   * The S5 token-host allow-list (structured-cloned into the thread): every URL the worker's token
   * providers contact must pass it (guards/token-url.ts). Without it they contact any URL.
   */
  tokenPolicy?: TokenEndpointPolicy;
}

/** A call into the mailer thread got no answer in time (see {@link MailerHostOptions.callTimeoutMs}). */
export class MailerCallTimeoutError extends Error {
  readonly code = 'MAILER_CALL_TIMEOUT';
  constructor(kind: string, ms: number) {
    super(`The mailer thread did not answer a ${kind} call within ${ms} ms; the thread was replaced`);
    this.name = 'MailerCallTimeoutError';
  }
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Where the worker's code is. Built (`dist/mailer-host/host.js`) the worker is the sibling
 * `worker.js`, loaded as is. Run from TypeScript sources (vitest, or `node --import tsx` for the
 * benchmark) this file is `host.ts` and the sibling `worker.ts`, and a worker thread gets neither
 * vitest's transform nor the parent's loader hooks. `execArgv: ['--import', 'tsx']` does not help
 * on Node 20: tsx's `--import` entry registers its hooks on the main thread only. So a small eval
 * bootstrap calls tsx's ESM `register()` inside the worker, then imports `worker.ts`. tsx is
 * resolved from this package (a devDependency), not from the working directory; the built server
 * never takes this branch and needs no tsx.
 */
function startWorker(options: { workerData: unknown }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), options);
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  // The ESM build of `tsx/esm/api` (require.resolve would give the CommonJS one).
  const { exports } = JSON.parse(readFileSync(pkg, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  const api = pathToFileURL(join(dirname(pkg), exports['./esm/api'].import.default)).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Runs the server's mailers in ONE worker thread, so a request's HTTP work (parsing, express, auth,
 * the JSON reply) on the main thread overlaps with SMTP, TLS and nodemailer work of other sends.
 * Requests carry ids over the worker's port; errors come back as `SmtpOAuthError.toJSON()` and are
 * rebuilt into `SmtpOAuthError`. Secrets cross as in-process memory (structured clone), never logs.
 *
 * The worker starts on first use. If it dies, requests in flight fail, and the mailers that were
 * open are opened again in a new worker on their next use (their token cache starts empty).
 */
export function createMailerHost(options: MailerHostOptions): MailerHost & {
  alive(timeoutMs?: number): Promise<boolean>;
} {
  const levels = LEVELS.filter((l) => options.logger.enabled?.(l) ?? true);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Entries handed over and not released, by key: handed again to a replacement worker. */
  const entries = new Map<string, EntryRecord>();
  /** Mailers opened and not closed, by handle: re-opened in a replacement worker. */
  const live = new Map<number, LiveMailer>();
  let worker: Worker | undefined;
  let generation = 0;
  let seq = 0;
  let closed = false;

  function start(): Worker {
    const w = startWorker({ workerData: { levels, tokenPolicy: options.tokenPolicy } });
    generation++;
    // The worker keeps the process alive only while a request waits on it (see call()).
    w.unref();
    w.on('message', (m: WorkerMessage) => {
      if (m.t === 'log') {
        options.logger[m.level](m.message, m.fields);
        return;
      }
      if (m.t === 'tokenRequest') {
        options.onTokenRequest?.(m.outcome);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.t === 'ok') p.resolve(m.value);
      else p.reject(fromWire(m.error));
    });
    const fail = (error: Error) => {
      if (worker !== w) return;
      worker = undefined;
      if (!closed)
        options.logger.error('mailer thread stopped', { error: error.name, message: error.message });
      for (const p of pending.values()) p.reject(new Error(`The mailer thread stopped: ${error.message}`));
      pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return w;
  }

  const callTimeoutMs = options.callTimeoutMs ?? 180_000;

  /** Stops a hung worker; its pending calls fail and the next call starts a new one. */
  function replace(w: Worker, reason: string): void {
    if (worker !== w) return;
    options.logger.error('mailer thread replaced', { reason });
    w.emit('error', new Error(reason));
    void w.terminate();
  }

  function call<T>(msg: HostMessage, timeoutMs = callTimeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!worker) worker = start();
      const w = worker;
      if (pending.size === 0) w.ref();
      const timer = setTimeout(() => {
        if (!pending.delete(msg.id)) return;
        reject(new MailerCallTimeoutError(msg.t, timeoutMs));
        replace(w, `${msg.t} call timed out`);
      }, timeoutMs);
      timer.unref();
      pending.set(msg.id, {
        resolve: (v) => {
          clearTimeout(timer);
          (resolve as (v: unknown) => void)(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      w.postMessage(msg);
    });
  }

  /** Hands the entry's config to the current worker unless it has it (or it was released). */
  function ensureEntry(entry: EntryRecord): Promise<unknown> | undefined {
    if (entries.get(entry.key) !== entry) {
      entries.set(entry.key, entry);
      entry.generation = -1;
    }
    if (worker && entry.generation === generation) return undefined;
    const sent = call({ t: 'entry', id: seq++, key: entry.key, config: entry.config, at: options.now() });
    entry.generation = generation;
    return sent;
  }

  function ensureOpen(handle: number): Promise<unknown> | undefined {
    const spec = live.get(handle);
    if (!spec) return undefined;
    const registered = ensureEntry(spec.entry);
    if (worker && spec.generation === generation) return registered;
    const opened = call({
      t: 'open',
      id: seq++,
      handle,
      key: spec.entry.key,
      connectAddress: spec.connectAddress,
      options: spec.options,
      at: options.now(),
    });
    spec.generation = generation;
    return opened;
  }

  /** Opens a pooled mailer in the worker; resolves once it exists (core's option errors reject here). */
  async function open(
    entry: EntryRecord,
    spec: { connectAddress: string | undefined; options: WorkerMailerOptions },
  ): Promise<RemoteMailer> {
    if (closed) throw new Error('The mailer host is closed');
    const handle = seq++;
    live.set(handle, { entry, ...spec, generation: -1 });
    try {
      await ensureOpen(handle);
    } catch (error) {
      live.delete(handle);
      throw error;
    }
    return {
      send(message) {
        // Ordered on the port: a re-open (after a worker restart) is handled before this send.
        void ensureOpen(handle)?.catch(() => {});
        return call<SendResult>({ t: 'send', id: seq++, handle, message, at: options.now() });
      },
      sendRaw(message) {
        void ensureOpen(handle)?.catch(() => {});
        return call<SendResult>({ t: 'sendRaw', id: seq++, handle, message, at: options.now() });
      },
      async close() {
        if (!live.delete(handle) || !worker) return;
        await call({ t: 'close', id: seq++, handle }).catch(() => {});
      },
    };
  }

  return {
    entry(key: string, config: EmailServerConfig): HostedEntry {
      const entry: EntryRecord = { key, config, generation: -1 };
      entries.set(key, entry);
      return {
        // A token from the worker's cache for this key: the same cache (one MSAL client) the mailers use.
        tokens:
          config.auth.type === 'oauth2'
            ? {
                getToken(tokenOptions) {
                  if (closed) return Promise.reject(new Error('The mailer host is closed'));
                  void ensureEntry(entry)?.catch(() => {});
                  return call<AccessToken>({
                    t: 'token',
                    id: seq++,
                    key,
                    options: tokenOptions,
                    at: options.now(),
                  });
                },
              }
            : undefined,
        open: (spec) => open(entry, spec),
        release() {
          if (entries.get(key) !== entry) return;
          entries.delete(key);
          if (worker && entry.generation === generation && !closed)
            void call({ t: 'release', id: seq++, key }).catch(() => {});
        },
      };
    },
    /** True when the thread answers within `timeoutMs` (or has not been started: it starts on use). */
    async alive(timeoutMs: number = 5000): Promise<boolean> {
      if (closed) return false;
      if (!worker) return true;
      try {
        await call({ t: 'ping', id: seq++ }, timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    /** Closes every mailer (sends in flight finish first), then stops the worker. Idempotent. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      live.clear();
      entries.clear();
      const w = worker;
      if (!w) return;
      await call({ t: 'shutdown', id: seq++ }).catch(() => {});
      worker = undefined;
      await w.terminate();
    },
  };
}
