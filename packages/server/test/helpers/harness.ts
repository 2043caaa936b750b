import { randomBytes } from 'node:crypto';
import { createKeyRing, type KeyRing } from '../../src/secrets/keyring.js';
import { type CreateServerOptions, createServer, type SmtpOAuthServer } from '../../src/server.js';
import type { Logger } from '../../src/logger.js';
import type { Driver, TestStore } from './drivers.js';

export const ADMIN = { email: 'admin@example.test', password: 'correct horse battery staple' };

/** A clock tests move by hand. */
// Starts at the wall clock (whole seconds) so certificates made for the tests are valid "now".
export function createTestClock(start = new Date(Math.floor(Date.now() / 1000) * 1000)) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

/** Captures every log line, to assert that no canary reaches a log sink. */
export function createCapturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export function testKeyRing(...ids: string[]): KeyRing {
  return createKeyRing((ids.length ? ids : ['k1']).map((id) => ({ id, key: randomBytes(32) })));
}

export interface Harness {
  server: SmtpOAuthServer;
  url: string;
  clock: ReturnType<typeof createTestClock>;
  logger: ReturnType<typeof createCapturingLogger>;
  store: TestStore;
  keyRing: KeyRing;
  /** fetch with our Origin and JSON content type by default; keeps the session cookie. */
  api(path: string, init?: ApiInit): Promise<Response>;
  login(credentials?: { email: string; password: string }): Promise<Response>;
  cookie: string | undefined;
  close(): Promise<void>;
}

export interface ApiInit {
  method?: string;
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  headers?: Record<string, string>;
  /** false: send no cookie. */
  cookie?: string | false;
}

/** Public test address used wherever a host name must resolve (no DNS in tests). */
export const PUBLIC_TEST_ADDRESS = '52.96.0.10';

export async function startHarness(
  driver: Driver,
  overrides: Partial<Omit<CreateServerOptions, 'store'>> & { store?: TestStore; keepStore?: boolean } = {},
): Promise<Harness> {
  const store = overrides.store ?? (await driver.freshStore());
  const clock = createTestClock();
  const logger = createCapturingLogger();
  const keyRing = overrides.keyRing ?? testKeyRing();
  const { store: _s, keepStore, ...rest } = overrides;
  const server = await createServer({
    store: store.options,
    keyRing,
    now: clock.now,
    logger,
    admin: ADMIN,
    passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
    adminUiDir: false,
    smtp: { resolveHost: async () => [PUBLIC_TEST_ADDRESS] },
    ...rest,
  });
  const { url, close: stopListening } = await server.listen(0, '127.0.0.1');
  const h: Harness = {
    server,
    url,
    clock,
    logger,
    store,
    keyRing,
    cookie: undefined,
    async api(path, init = {}) {
      const headers: Record<string, string> = { origin: url, ...init.headers };
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) body = JSON.stringify(init.body);
      if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/json';
      }
      if (init.method && init.method !== 'GET' && body === undefined && !('content-type' in headers)) {
        headers['content-type'] = 'application/json';
      }
      const cookie = init.cookie === false ? undefined : (init.cookie ?? h.cookie);
      if (cookie) headers.cookie = cookie;
      return fetch(`${url}${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
      });
    },
    async login(credentials = ADMIN) {
      const res = await h.api('/api/auth/login', { body: credentials, cookie: false });
      const set = res.headers.get('set-cookie');
      if (res.ok && set) h.cookie = set.split(';')[0];
      return res;
    },
    async close() {
      await stopListening();
      await server.close();
      if (!keepStore) await store.cleanup();
    },
  };
  return h;
}

/** A valid Microsoft 365 client-secret entry, as the admin UI would send it. */
export function secretEntry(
  overrides: { name?: string; secret?: string; host?: string; tokenEndpoint?: string } = {},
) {
  return {
    name: overrides.name ?? 'Contoso',
    host: overrides.host ?? 'smtp.office365.com',
    port: 587,
    security: 'starttls',
    user: 'noreply@contoso.com',
    auth: {
      type: 'oauth2',
      provider: 'entra',
      tokenEndpoint:
        overrides.tokenEndpoint ??
        'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token',
      clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      scope: 'https://outlook.office365.com/.default',
      credential: { kind: 'secret', secret: overrides.secret ?? 'not-the-canary~secret' },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export type Json = any;
/** The JSON body of a response, untyped for assertions. */
export const json = (res: Response): Promise<Json> => res.json() as Promise<Json>;
