/**
 * The CLI honours HTTPS_PROXY / NO_PROXY for token requests (issue 18 §6). The token endpoint
 * listens on 127.0.0.2 and resets every connection not coming from 127.0.0.3, where the CONNECT
 * proxy (the `proxy` package) connects from: the proxy is the only route to it.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { createTokenServer, type TokenServer } from '@org/testkit/token';
import { createProxy, type ProxyServer } from 'proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, runCli, type Workspace, workspace } from './helpers.js';

let env: TestEnvironment;
let hidden: TokenServer;
let proxy: ProxyServer;
let proxyUrl: string;
let ws: Workspace;
const connects: string[] = [];

beforeAll(async () => {
  env = await createTestEnvironment();
  hidden = await createTokenServer({
    directory: env.directory,
    clock: env.clock,
    ca: env.tokenServer.ca,
    shareKeysWith: env.tokenServer,
    host: '127.0.0.2',
    acceptFrom: ['127.0.0.3'],
  });
  proxy = createProxy(createHttpServer());
  proxy.localAddress = '127.0.0.3';
  proxy.on('connect', (req: IncomingMessage) => connects.push(req.url ?? ''));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  ws = workspace(env, { auth: { tokenEndpoint: hidden.tokenEndpoint(env.tenantId) } });
});
afterAll(async () => {
  ws?.remove();
  await new Promise((resolve) => proxy?.close(resolve));
  await hidden?.close();
  await env?.close();
});

describe('smtp-oauth behind a corporate proxy', () => {
  // Regression: with HTTPS_PROXY set nothing reached the proxy, `token` exited 13 and the doctor
  // advised opening the SMTP port.
  it('token: HTTPS_PROXY carries the token request through the proxy', async () => {
    connects.length = 0;
    const r = await runCli([...ws.args, 'token'], { cwd: ws.dir, env: { ...ws.env, HTTPS_PROXY: proxyUrl } });
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain('✓ roles: roles contains SMTP.SendAsApp');
    expect(connects).toContain(`127.0.0.2:${hidden.port}`);
  });

  it('token: without a proxy (or exempted by NO_PROXY) the failure names the token leg, exit 4', async () => {
    for (const extra of [{}, { https_proxy: proxyUrl, NO_PROXY: '127.0.0.2' }] as Record<string, string>[]) {
      connects.length = 0;
      const r = await runCli([...ws.args, 'token', '--json'], { cwd: ws.dir, env: { ...ws.env, ...extra } });
      const doc = JSON.parse(r.stdout);
      expect(doc.error.code, output(r)).toBe('NETWORK_CONNECT');
      expect(doc.error.message).toContain('the token endpoint 127.0.0.2 over HTTPS');
      expect(doc.error.hint).toContain('HTTPS_PROXY');
      expect(doc.error.hint).not.toMatch(/587|465/);
      expect(r.code).toBe(4);
      expect(connects).toEqual([]);
    }
  });

  it('send: the message goes out with a token fetched through the proxy', async () => {
    connects.length = 0;
    const body = ws.write('body.txt', 'hello through the proxy');
    const r = await runCli(
      [...ws.args, 'send', '--to', 'someone@example.com', '--subject', 'proxy', '--text', body],
      {
        cwd: ws.dir,
        env: { ...ws.env, HTTPS_PROXY: proxyUrl },
      },
    );
    expect(r.code, output(r)).toBe(0);
    expect(connects.length).toBeGreaterThan(0);
    await env.waitForMessage((m) => m.parsed.subject === 'proxy');
  });

  it('doctor: the token step shows the proxy it went through', async () => {
    const r = await runCli([...ws.args, 'doctor', '--json'], {
      cwd: ws.dir,
      env: { ...ws.env, HTTPS_PROXY: proxyUrl },
    });
    const doc = JSON.parse(r.stdout);
    const token = doc.steps.find((s: { id: string }) => s.id === 'token');
    expect(token.status, output(r)).toBe('ok');
    expect(token.evidence.join('\n')).toContain(`through the proxy ${proxyUrl} (HTTP CONNECT)`);
  });
});
