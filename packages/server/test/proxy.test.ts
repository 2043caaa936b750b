/**
 * The server honours the environment's proxy for token requests (issue 18 §6): the entry point
 * passes HTTPS_PROXY/NO_PROXY in as `runtime.proxy`, and the token client — in the mailer thread
 * too — goes through it. The token endpoint listens on 127.0.0.2 and resets every connection not
 * coming from 127.0.0.3, where the CONNECT proxy connects from: the proxy is its only route.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { createTokenServer, type TokenServer } from '@org/testkit/token';
import { createProxy, type ProxyServer } from 'proxy';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, json, startHarness } from './helpers/harness.js';

let env: TestEnvironment | undefined;
let hidden: TokenServer | undefined;
let proxy: ProxyServer | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await hidden?.close();
  await env?.close();
  h = undefined;
  proxy = undefined;
  hidden = undefined;
  env = undefined;
});

describeDrivers('token requests through the environment proxy', (driver) => {
  it.each([true, false])(
    'mailerThread %s: /api/send gets its token through the proxy',
    async (mailerThread) => {
      env = await createTestEnvironment();
      const kit = env;
      hidden = await createTokenServer({
        directory: kit.directory,
        clock: kit.clock,
        ca: kit.tokenServer.ca,
        shareKeysWith: kit.tokenServer,
        host: '127.0.0.2',
        acceptFrom: ['127.0.0.3'],
      });
      const connects: string[] = [];
      proxy = createProxy(createHttpServer());
      proxy.localAddress = '127.0.0.3';
      proxy.on('connect', (req: IncomingMessage) => connects.push(req.url ?? ''));
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const asked: string[] = [];
      h = await startHarness(driver, {
        now: () => new Date(kit.clock.now()),
        tokenHostAllowlist: ['127.0.0.2'],
        smtp: { allowedAddresses: ['127.0.0.1'] },
        mailerThread,
        runtime: {
          proxy: (url) => {
            asked.push(url);
            return proxyUrl;
          },
        },
      });
      await h.login();
      const entry = {
        ...kit.config,
        auth: { ...kit.config.auth, tokenEndpoint: hidden.tokenEndpoint(kit.tenantId) },
      };
      const created = await h.api('/api/email-servers', { body: entry });
      const createdBody = await json(created);
      expect(created.status, JSON.stringify(createdBody)).toBe(201);
      const key = (await json(await h.api('/api/api-keys', { body: { name: 'app' } }))).key as string;
      const res = await h.api('/api/send', {
        body: { to: 'someone@example.com', subject: 'via proxy' },
        cookie: false,
        headers: { authorization: `Bearer ${key}`, prefer: 'wait=25' },
      });
      expect(res.status, JSON.stringify(await json(res))).toBe(200);
      expect(asked).toEqual([hidden.tokenEndpoint(kit.tenantId)]);
      expect(new Set(connects)).toEqual(new Set([`127.0.0.2:${hidden.port}`]));
      expect(hidden.requests().filter((r) => r.outcome === 'issued')).toHaveLength(1);
      // The doctor's token step takes the same route and says so (it read "directly" before).
      const id = createdBody.emailServer.id as string;
      const diagnosis = await json(await h.api(`/api/email-servers/${id}/diagnose`, { body: {} }));
      const tokenStep = (diagnosis.steps as { id: string; status: string; evidence: string[] }[]).find(
        (s) => s.id === 'token',
      );
      expect(tokenStep?.status).toBe('ok');
      expect(tokenStep?.evidence.join('\n')).toContain(`through the proxy ${proxyUrl} (HTTP CONNECT)`);
      expect(hidden.requests().filter((r) => r.outcome === 'issued')).toHaveLength(2);
      // The stored entry stays as the admin wrote it: the environment's proxy is not saved or shown.
      const shown = await json(await h.api('/api/email-servers'));
      expect(JSON.stringify(shown)).not.toContain(proxyUrl);
    },
  );
});
