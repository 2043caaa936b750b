/**
 * The WebAdmin's API client against the real server: every route the UI calls, with the shapes the
 * pages read. Guards the client against drift in the server's routes (admin-ui cannot import the
 * server's types: the server depends on admin-ui).
 */
import { type ApiClient, ApiError, createApiClient } from '@org/admin-ui/api-client';
import {
  createKeyRing,
  createServer,
  generateKek,
  type ListeningServer,
  type SmtpOAuthServer,
  silentLogger,
} from '@org/server';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EMAIL = 'admin@example.test';
const PASSWORD = `contract-${Math.random().toString(36).slice(2)}`;

/**
 * A browser-like fetch for Node: keeps the session cookie and sends the page's Origin, as the
 * browser does for the same-origin admin UI (the server's CSRF rule requires it).
 */
function browserLikeFetch(origin: string): typeof fetch {
  let cookie = '';
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    headers.set('origin', origin);
    const response = await fetch(input, { ...init, headers });
    const set = response.headers.getSetCookie();
    for (const c of set) {
      const [pair] = c.split(';');
      cookie = /Max-Age=0/i.test(c) ? '' : (pair ?? '');
    }
    return response;
  };
}

let env: TestEnvironment;
let server: SmtpOAuthServer;
let http: ListeningServer;
let dataDir: string;
let api: ApiClient;
let unauthenticated = 0;

beforeAll(async () => {
  env = await createTestEnvironment();
  dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-contract-'));
  server = await createServer({
    store: { dataDir },
    keyRing: createKeyRing([generateKek(new Date())]),
    logger: silentLogger,
    // Loopback allowances for the testkit, as an operator would grant them (TOKEN_HOST_ALLOWLIST,
    // SMTP allowed addresses) — not sandbox mode, which seeds its own entry and testkit.
    tokenHostAllowlist: ['127.0.0.1'],
    smtp: { allowedAddresses: ['127.0.0.1'] },
    admin: { email: EMAIL, password: PASSWORD },
    passwordHashing: { N: 2 ** 12, r: 8, p: 1 },
    adminUiDir: false,
  });
  http = await server.listen(0, '127.0.0.1');
  api = createApiClient({
    baseUrl: http.url,
    fetch: browserLikeFetch(http.url),
    onUnauthenticated: () => {
      unauthenticated++;
    },
  });
});

afterAll(async () => {
  await server?.close();
  await env?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('API client ↔ server contract', () => {
  it('auth: 401 before sign-in (and the hook fires), a typed error for a wrong password, then me', async () => {
    await expect(api.me()).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(unauthenticated).toBe(1);
    const wrong = await api.login(EMAIL, `${PASSWORD}x`).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect((await api.login(EMAIL, PASSWORD)).admin.email).toBe(EMAIL);
    expect((await api.me()).admin.email).toBe(EMAIL);
  });

  it('email servers: create with a secret, read it back write-only, keep it on update, list, default, delete', async () => {
    const { emailServer, warnings } = await api.createServer({ ...env.config, name: 'contract' });
    expect(emailServer).toMatchObject({
      name: 'contract',
      isDefault: true,
      clientSecretSet: true,
      certificate: null,
    });
    expect(emailServer.config.auth).toMatchObject({
      type: 'oauth2',
      credential: { kind: 'secret', clientSecretSet: true },
    });
    expect(warnings.map((w) => w.code)).toEqual([]);
    expect(JSON.stringify(emailServer)).not.toContain(env.clientSecret);

    // The editor's payload for "keep the stored secret": the credential without its value.
    const { secret: _drop, ...keptCredential } = env.config.auth.credential as {
      kind: 'secret';
      secret: string;
    };
    const updated = await api.updateServer(emailServer.id, {
      ...env.config,
      name: 'contract renamed',
      auth: { ...env.config.auth, credential: keptCredential },
    });
    expect(updated.emailServer).toMatchObject({ name: 'contract renamed', clientSecretSet: true });

    const list = await api.listServers();
    expect(list.map((s) => s.name)).toEqual(['contract renamed']);
    expect((await api.getServer(emailServer.id)).emailServer.id).toBe(emailServer.id);
    expect((await api.setDefaultServer(emailServer.id)).emailServer.isDefault).toBe(true);
    await api.deleteServer(emailServer.id);
    expect(await api.listServers()).toEqual([]);
  });

  it('validation errors carry core’s field paths, as the editor maps them to fields', async () => {
    const error = await api
      .createServer({ ...env.config, name: 'bad', auth: { ...env.config.auth, clientId: 'my-app' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).issues).toContainEqual({
      path: 'auth.clientId',
      message: expect.stringMatching(/GUID/),
      // The editor decides on the code, never on the message text.
      code: 'CLIENT_ID_NOT_GUID',
    });
  });

  it('a certificate entry shows subject, both thumbprints and expiry — never the key', async () => {
    const { emailServer } = await api.createServer({ ...env.certificateConfig, name: 'contract cert' });
    expect(emailServer.certificate).toMatchObject({
      thumbprint: env.certificate.thumbprintSha1,
      thumbprintSha256: env.certificate.thumbprintSha256,
    });
    expect(emailServer.certificate?.subject).toContain('CN=');
    expect(JSON.stringify(emailServer)).not.toContain('PRIVATE KEY');
    await api.deleteServer(emailServer.id);
  });

  it('a certificate entry saved again without a new upload keeps its certificate', async () => {
    const { emailServer } = await api.createServer({ ...env.certificateConfig, name: 'contract cert keep' });
    // What the editor sends when the admin changes another field: the credential kind, no PEM parts.
    const update = api.updateServer(emailServer.id, {
      ...env.certificateConfig,
      name: 'contract cert kept',
      auth: { ...env.certificateConfig.auth, credential: { kind: 'certificate' } },
    });
    const result = await update.catch((e: unknown) => e);
    await api.deleteServer(emailServer.id);
    expect(result).toMatchObject({
      emailServer: { name: 'contract cert kept', certificate: emailServer.certificate },
    });
  });

  it('API keys: created once with the key, listed without it, revoked', async () => {
    const created = await api.createApiKey('contract app');
    expect(created.key).toMatch(/^smtpo_/);
    const listed = await api.listApiKeys();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    await api.revokeApiKey(created.id);
    expect((await api.listApiKeys())[0]?.revokedAt).toEqual(expect.any(String));
  });

  it('logs: pages of entries with a cursor', async () => {
    const first = await api.listAudit({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next).toEqual(expect.any(String));
    const second = await api.listAudit({ limit: 2, before: first.next ?? undefined });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    const sent = await api.listSentLog({ limit: 10 });
    expect(sent).toMatchObject({ items: expect.any(Array) });
  });

  it('outbox: summary, a page of messages with its cursor, one message with attempts; refusals are typed', async () => {
    const { emailServer } = await api.createServer({ ...env.config, name: 'contract outbox' });
    const key = await api.createApiKey('contract outbox', { emailServerIds: [emailServer.id] });
    const ids: string[] = [];
    for (const subject of ['one', 'two']) {
      const res = await fetch(`${http.url}/api/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'a@example.com', subject }),
      });
      const body = (await res.json()) as { id: string };
      expect(res.status, JSON.stringify(body)).toBe(202);
      ids.push(body.id);
    }
    for (const id of ids) {
      const deadline = Date.now() + 30_000;
      while ((await api.getMessage(id)).message.status !== 'sent' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    }
    const detail = await api.getMessage(ids[0]!, true);
    expect(detail.message).toMatchObject({
      id: ids[0],
      status: 'sent',
      entryId: emailServer.id,
      attempts: 1,
    });
    expect(detail.attempts[0]).toMatchObject({ attempt: 1, outcome: 'sent', code: null });
    const first = await api.listMessages({ limit: 1, entryId: emailServer.id });
    expect(first.items.map((m) => m.id)).toEqual([ids[1]]);
    const second = await api.listMessages({
      limit: 1,
      entryId: emailServer.id,
      before: first.next ?? undefined,
    });
    expect(second.items.map((m) => m.id)).toEqual([ids[0]]);
    expect((await api.listMessages({ status: 'failed' })).items).toEqual([]);
    const summary = await api.outboxSummary(true);
    expect(summary.counts.sent).toBeGreaterThanOrEqual(2);
    expect(summary.governor).toBe('process');
    const mailbox = summary.mailboxes.find((m) => m.entries.some((e) => e.id === emailServer.id));
    expect(mailbox).toMatchObject({
      backlog: { queued: 0, sending: 0 },
      limits: { maxConnections: expect.any(Number), messagesPerMinute: expect.any(Number) },
      usage: { messagesLastMinute: expect.any(Number), recipientsLastDay: expect.any(Number) },
    });
    const cancel = await api.cancelMessage(ids[0]!).catch((e: unknown) => e);
    expect(cancel).toBeInstanceOf(ApiError);
    expect(cancel).toMatchObject({ status: 409, code: 'MESSAGE_NOT_QUEUED' });
    await expect(api.retryMessage(ids[0]!)).rejects.toMatchObject({
      status: 409,
      code: 'MESSAGE_NOT_RETRYABLE',
    });
  });

  it('sign-out ends the session', async () => {
    await api.logout();
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
  });
});
