// The mailer thread (see host.ts): core's pooled mailers and token caches of every entry, so the
// SMTP/TLS/nodemailer work runs beside the HTTP handling on the main thread instead of after it.
// Only @org/core and this folder's protocol are loaded here — no store, no express.
import { parentPort, workerData } from 'node:worker_threads';
import { createMailer, type EmailServerConfig, type Mailer, type TokenCache } from '@org/core';
import { entryTokenCache } from '../entry-token-cache.js';
import type { TokenEndpointPolicy } from '../guards/outbound.js';
import { tokenUrlCheck } from '../guards/token-url.js';
import type { LogLevel } from '../logger.js';
import { type HostMessage, toWire, type WorkerMessage } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('mailer-host/worker must run in a worker thread');
const data = workerData as { levels: LogLevel[]; tokenPolicy?: TokenEndpointPolicy };
const levels = new Set<LogLevel>(data.levels);
// S5 for every URL the token providers of this thread contact (issue 13 §2).
const tokenPolicy = data.tokenPolicy;
const checkUrlOption = tokenPolicy ? { checkUrl: tokenUrlCheck(() => tokenPolicy) } : {};

const post = (message: WorkerMessage) => port.postMessage(message);

// The host's clock, carried by every request (`at`); see HostMessage.
let offset = 0;
const now = () => Date.now() + offset;
const sync = (at: number) => {
  offset = at - Date.now();
};

/** Forwards core's records (already redacted by core) to the host's logger, only the levels it writes. */
const logger = levels.size
  ? Object.fromEntries(
      [...levels].map((level) => [
        level,
        (message: string, fields?: Record<string, unknown>) => {
          try {
            post({ t: 'log', level, message, fields });
          } catch {
            // A field that cannot be cloned (a function): keep its JSON form.
            post({ t: 'log', level, message, fields: JSON.parse(JSON.stringify(fields ?? {})) });
          }
        },
      ]),
    )
  : undefined;
const logOption = logger ? { logger } : {};

/**
 * The entries the host handed over, by key: config and one token cache (one MSAL client), shared by
 * the key's mailers. An entry goes once the host released it and its last mailer closed.
 */
const entries = new Map<
  string,
  { config: EmailServerConfig; tokens: TokenCache | undefined; refs: number; released: boolean }
>();
const handles = new Map<number, { key: string; mailer: Mailer }>();

function entryOf(key: string) {
  const entry = entries.get(key);
  if (!entry) throw new Error('entry is not registered with the mailer thread');
  return entry;
}

function tokenCacheFor(config: EmailServerConfig): TokenCache | undefined {
  return config.auth.type === 'oauth2'
    ? entryTokenCache(config, {
        now,
        ...checkUrlOption,
        ...logOption,
        onTokenRequest: (outcome) => post({ t: 'tokenRequest', outcome }),
      })
    : undefined;
}

async function handle(msg: HostMessage): Promise<unknown> {
  switch (msg.t) {
    case 'entry': {
      sync(msg.at);
      const known = entries.get(msg.key);
      if (known) known.released = false;
      else
        entries.set(msg.key, {
          config: msg.config,
          tokens: tokenCacheFor(msg.config),
          refs: 0,
          released: false,
        });
      return undefined;
    }
    case 'release': {
      const entry = entries.get(msg.key);
      if (!entry) return undefined;
      entry.released = true;
      if (entry.refs <= 0) entries.delete(msg.key);
      return undefined;
    }
    case 'open': {
      sync(msg.at);
      const entry = entryOf(msg.key);
      const tokens = entry.tokens;
      const mailer = createMailer(entry.config, {
        ...msg.options,
        ...(tokens ? { tokenProvider: tokens } : {}),
        ...(msg.connectAddress ? { connectAddress: msg.connectAddress } : {}),
        now,
        ...logOption,
      });
      entry.refs++;
      handles.set(msg.handle, { key: msg.key, mailer });
      return undefined;
    }
    case 'send': {
      sync(msg.at);
      const h = handles.get(msg.handle);
      if (!h) throw new Error('mailer handle is not open');
      return h.mailer.send(msg.message);
    }
    case 'sendRaw': {
      sync(msg.at);
      const h = handles.get(msg.handle);
      if (!h) throw new Error('mailer handle is not open');
      return h.mailer.sendRaw(msg.message);
    }
    case 'token': {
      sync(msg.at);
      const tokens = entryOf(msg.key).tokens;
      if (!tokens) throw new Error('entry has no token auth');
      return tokens.getToken(msg.options);
    }
    case 'close': {
      const h = handles.get(msg.handle);
      if (!h) return undefined;
      handles.delete(msg.handle);
      const entry = entries.get(h.key);
      if (entry && --entry.refs <= 0 && entry.released) entries.delete(h.key);
      await h.mailer.close();
      return undefined;
    }
    case 'ping':
      return undefined;
    case 'shutdown': {
      const all = [...handles.values()];
      handles.clear();
      entries.clear();
      await Promise.allSettled(all.map((h) => h.mailer.close()));
      return undefined;
    }
  }
}

port.on('message', (msg: HostMessage) => {
  handle(msg).then(
    (value) => post(value === undefined ? { t: 'ok', id: msg.id } : { t: 'ok', id: msg.id, value }),
    (error: unknown) => post({ t: 'err', id: msg.id, error: toWire(error) }),
  );
});
