/**
 * Corporate networks (issue 18 §6): the token endpoint is reachable only through an HTTP CONNECT
 * proxy. The testkit's token server listens on 127.0.0.2 and resets every connection that does not
 * come from 127.0.0.3, the address the proxy (the `proxy` package, a real CONNECT proxy) connects
 * from — so a request that bypasses the proxy cannot succeed.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { createTokenServer, type TokenServer } from '@org/testkit/token';
import { createProxy, type ProxyServer } from 'proxy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';
import { parseConfig } from '../src/config/parse.js';
import { diagnose } from '../src/doctor/index.js';
import type { SmtpOAuthError } from '../src/errors/index.js';
import { createMailer } from '../src/mailer/index.js';
import { createTokenProvider } from '../src/tokens/create.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';

const PROXY_SOURCE = '127.0.0.3';

let env: TestEnvironment;
let hidden: TokenServer;
let proxy: ProxyServer;
let proxyUrl: string;
const connects: string[] = [];

beforeAll(async () => {
  env = await createTestEnvironment();
  // A second endpoint of the same directory, keys and CA, reachable only from the proxy.
  hidden = await createTokenServer({
    directory: env.directory,
    clock: env.clock,
    ca: env.tokenServer.ca,
    shareKeysWith: env.tokenServer,
    host: '127.0.0.2',
    acceptFrom: [PROXY_SOURCE],
  });
  proxy = createProxy(createHttpServer());
  proxy.localAddress = PROXY_SOURCE;
  proxy.on('connect', (req: IncomingMessage) => connects.push(req.url ?? ''));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await hidden?.close();
  await env?.close();
});
beforeEach(() => {
  connects.length = 0;
  hidden.clearRequests();
});

const endpoint = () => hidden.tokenEndpoint(env.tenantId);
const base = () => ({
  tokenEndpoint: endpoint(),
  clientId: env.clientId,
  scope: env.scope,
  credential: { kind: 'secret' as const, secret: env.clientSecret },
  ca: env.caPem,
  now: env.clock.now,
  retry: false as const,
});
const failure = async (p: Promise<unknown>) =>
  (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as SmtpOAuthError;

describe.each(['oauth2', 'entra'] as const)(
  'token requests through a CONNECT proxy (%s provider)',
  (kind) => {
    const provider = (extra: object = {}) =>
      kind === 'oauth2'
        ? createOAuth2TokenProvider({ ...base(), ...extra })
        : createEntraTokenProvider({ ...base(), ...extra });

    it('the endpoint is unreachable directly; the error names the token leg, not the SMTP port', async () => {
      const err = await failure(provider().getToken());
      expect(err.code).toBe('NETWORK_CONNECT');
      expect(err.message).toContain('the token endpoint 127.0.0.2 over HTTPS');
      expect(err.hint).toContain('HTTPS_PROXY');
      expect(err.hint).toContain('SMTP port is not involved');
      expect(err.hint).not.toMatch(/587|465/);
      expect(hidden.requests()).toHaveLength(0);
    });

    it('with `proxy` the request goes through the tunnel and gets a token', async () => {
      const token = await provider({ proxy: proxyUrl }).getToken();
      expect(token.accessToken.split('.')).toHaveLength(3);
      expect(connects).toContain(`127.0.0.2:${hidden.port}`);
      expect(hidden.requests().map((r) => r.outcome)).toContain('issued');
    });

    it('a per-URL proxy function (what HTTPS_PROXY/NO_PROXY become) is asked with the endpoint URL', async () => {
      const asked: string[] = [];
      await provider({
        proxy: (url: string) => {
          asked.push(url);
          return proxyUrl;
        },
      }).getToken();
      expect(asked.every((u) => u.startsWith('https://127.0.0.2:'))).toBe(true);
      expect(asked.length).toBeGreaterThan(0);
    });

    it('a proxy that cannot be reached is named as such', async () => {
      const dead = createHttpServer();
      await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
      const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
      await new Promise((r) => dead.close(r));
      const err = await failure(provider({ proxy: deadUrl }).getToken());
      expect(err.code).toBe('NETWORK_CONNECT');
      expect(err.details.proxy).toBe(deadUrl);
      expect(err.message).toContain(`through the proxy ${deadUrl}`);
      expect(err.hint).toContain('could not be reached');
    });

    it('a proxy that refuses the tunnel (407) is named as such, not taken for the token endpoint', async () => {
      proxy.authenticate = () => false;
      try {
        const err = await failure(provider({ proxy: proxyUrl }).getToken());
        expect(err.code).toBe('NETWORK_CONNECT');
        expect(err.message).toContain('refused to open a tunnel');
        expect(err.hint).toContain('CONNECT');
        expect(hidden.requests()).toHaveLength(0);
      } finally {
        proxy.authenticate = undefined;
      }
    });
  },
);

describe('an entry that names its own proxy', () => {
  const entry = (extra: object = {}) => {
    const { tls, ...rest } = env.config;
    const parsed = parseConfig({
      ...rest,
      tls,
      auth: { ...env.config.auth, tokenEndpoint: endpoint() },
      ...extra,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.config;
  };

  it('proxy.url is in the JSON schema for editors', () => {
    const schema = configJsonSchema() as { anyOf: Array<{ properties?: Record<string, unknown> }> };
    expect(schema.anyOf[0]?.properties?.proxy).toMatchObject({
      type: 'object',
      properties: { url: { type: 'string' } },
      required: ['url'],
    });
  });

  it('proxy.url is validated: http(s) only, no credentials', () => {
    const { tls: _t, ...rest } = env.config;
    for (const [url, text] of [
      ['socks5://127.0.0.1:1080', 'http:// or https://'],
      ['http://user:pw@127.0.0.1:3128', 'must not contain credentials'],
      ['not a url', 'proxy URL such as'],
    ] as const) {
      const r = parseConfig({ ...rest, proxy: { url } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.issues.find((i) => i.path === 'proxy.url')?.message).toContain(text);
    }
  });

  it('createTokenProvider uses the entry proxy over the option, and a send goes end to end', async () => {
    const config = entry({ proxy: { url: proxyUrl } });
    const token = await createTokenProvider(config, { proxy: 'http://127.0.0.1:9' }).getToken();
    expect(token.accessToken).toBeTruthy();
    // MSAL's discovery and token requests: every one through the tunnel to the hidden endpoint.
    expect(connects.length).toBeGreaterThan(0);
    expect(new Set(connects)).toEqual(new Set([`127.0.0.2:${hidden.port}`]));
    const mailer = createMailer(config);
    try {
      const result = await mailer.send({
        to: 'someone@example.com',
        subject: 'through the proxy',
        text: 'hi',
      });
      expect(result.messageId).toBeTruthy();
    } finally {
      await mailer.close();
    }
    expect(hidden.requests().filter((r) => r.outcome === 'issued').length).toBeGreaterThanOrEqual(2);
  });

  it("the doctor shows the proxy in the token step's evidence, and names the leg when it fails", async () => {
    const ok = await diagnose(entry(), { proxy: proxyUrl, timeoutMs: 10_000 });
    const token = ok.steps.find((s) => s.id === 'token');
    expect(token?.status).toBe('ok');
    expect(token?.evidence.join('\n')).toContain(`through the proxy ${proxyUrl} (HTTP CONNECT)`);

    const direct = await diagnose(entry(), { timeoutMs: 10_000 });
    const failed = direct.steps.find((s) => s.id === 'token');
    expect(failed?.status).toBe('fail');
    expect(failed?.evidence.join('\n')).toContain('directly (no proxy configured)');
    expect(JSON.stringify(failed)).toContain('HTTPS_PROXY');
    expect(JSON.stringify(failed)).not.toContain('(587/465)');
  });
});
