/**
 * Every curl example in packages/server/README.md runs, as written, through bash against a real
 * server (the test harness) whose entry points at a testkit environment — so the README cannot rot:
 * - the curl line the sandbox prints (in the sample output) and every ```sh block that calls curl;
 * - placeholders are replaced by the real values: the server's URL for `https://smtp-oauth.example.com`
 *   and `http://127.0.0.1:8025`, a fresh API key for `smtpo_…` and `$SMTP_OAUTH_API_KEY`, the admin's
 *   password for `Xk3p9-…`, the entry's id for `ID=…`; a placeholder that is no longer in the README
 *   fails the test, and so does a `…` left in a command;
 * - `curl` is wrapped to append the HTTP status; every request must answer 2xx with the documented
 *   shape, and a request to a path this test does not know fails it (teach it, below).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, startHarness } from './helpers/harness.js';

const README = 'packages/server/README.md';
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

interface Block {
  lang: string;
  line: number;
  text: string;
}

const blocks: Block[] = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1] ?? '',
  line: readme.slice(0, m.index).split('\n').length,
  text: m[2] ?? '',
}));

interface Example {
  where: string;
  script: string;
  /** The ```json block right after the example: the documented answer. */
  answer?: Json;
}

function examples(): Example[] {
  const out: Example[] = [];
  blocks.forEach((b, i) => {
    if (b.lang === '' || b.lang === 'text') {
      // Sample output: the curl line the sandbox prints.
      b.text.split('\n').forEach((l, j) => {
        if (/^\s*curl\s/.test(l)) out.push({ where: `${README}:${b.line + 1 + j}`, script: l.trim() });
      });
    } else if ((b.lang === 'sh' || b.lang === 'bash') && /(^|\n)\s*curl\s/.test(b.text)) {
      const next = blocks[i + 1];
      out.push({
        where: `${README}:${b.line}`,
        script: b.text,
        ...(next?.lang === 'json' && { answer: JSON.parse(next.text) }),
      });
    }
  });
  return out;
}

const ADMIN_EMAIL = 'admin@localhost';
const ADMIN_PASSWORD = 'docs-example password, long enough';

interface Call {
  status: number;
  body: Json;
  /** The request's path, from curl's `%{url_effective}`. */
  path: string;
}

/** Runs a README script with bash; `curl` appends the status and the URL of every request. */
function runScript(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; calls: Call[]; stderr: string }> {
  const wrapper = `set -e\ncurl() { command curl -w '\\n@@ %{http_code} %{url_effective} @@\\n' "$@"; }\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', wrapper + script], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const calls: Call[] = [];
      const parts = stdout.split(/\n@@ (\d{3}) (\S+) @@\n/);
      for (let i = 0; i + 2 < parts.length; i += 3) {
        const text = (parts[i] ?? '').trim();
        let body: Json;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        calls.push({ status: Number(parts[i + 1]), path: new URL(parts[i + 2] ?? '').pathname, body });
      }
      resolve({ code, calls, stderr });
    });
  });
}

describeDrivers(`${README}: curl examples`, (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    h = undefined;
    env = undefined;
    dir = undefined;
  });

  const all = examples();

  it('finds the examples: the sandbox curl line, the send API, the admin session', () => {
    expect(all.flatMap((e) => e.script.match(/\/api\/[\w-]+/g) ?? [])).toEqual(
      expect.arrayContaining(['/api/send', '/api/auth', '/api/email-servers']),
    );
  });

  it.each(all.map((e) => [e.where, e] as const))(
    '%s runs and answers as documented',
    async (_where, example) => {
      env = await createTestEnvironment();
      const kit = env;
      h = await startHarness(driver, {
        now: () => new Date(kit.clock.now()),
        tokenHostAllowlist: ['127.0.0.1'],
        smtp: { allowedAddresses: ['127.0.0.1'] },
        admin: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      });
      await h.login({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      const created = await h.api('/api/email-servers', { body: kit.config });
      expect(created.status).toBe(201);
      const id = (await json(created)).emailServer.id as string;
      const key = (await json(await h.api('/api/api-keys', { body: { name: 'docs' } }))).key as string;

      let script = example.script;
      const substitutions: [string | RegExp, string][] = [
        ['https://smtp-oauth.example.com', h.url],
        ['http://127.0.0.1:8025', h.url],
        ['smtpo_…', key],
        ['Xk3p9-…', ADMIN_PASSWORD],
        [/^ID=…/m, `ID=${id}`],
      ];
      let used = 0;
      for (const [from, to] of substitutions) {
        const before = script;
        script = typeof from === 'string' ? script.replaceAll(from, to) : script.replace(from, to);
        if (script !== before) used++;
      }
      expect(
        used,
        `${example.where}: no known placeholder; the test cannot point it at a server`,
      ).toBeGreaterThan(0);
      for (const line of script.split('\n'))
        expect(
          line.replace(/\s#.*$/, ''),
          `${example.where}: a placeholder the test does not fill`,
        ).not.toContain('…');

      dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-server-docs-'));
      const result = await runScript(script, { SMTP_OAUTH_API_KEY: key }, dir);
      expect(result.code, `${example.where}: ${result.stderr}`).toBe(0);
      expect(result.calls.length).toBeGreaterThan(0);

      for (const call of result.calls) {
        const what = `${example.where}: ${call.path} → ${call.status} ${JSON.stringify(call.body)}`;
        expect(call.status, what).toBeGreaterThanOrEqual(200);
        expect(call.status, what).toBeLessThan(300);
        const path = call.path.replace(id, '{id}');
        switch (path) {
          case '/api/send': {
            if (call.status === 202) {
              // Stored in the outbox; delivered right after.
              if (example.answer)
                expect(Object.keys(call.body).sort(), what).toEqual(Object.keys(example.answer).sort());
              expect(call.body, what).toMatchObject({ status: 'queued' });
              const message = await kit.waitForMessage((m) => m.messageId === call.body.messageId, {
                timeoutMs: 30_000,
              });
              expect(message.identity.appId).toBe(kit.clientId);
              break;
            }
            if (example.answer)
              expect(Object.keys(call.body).sort(), what).toEqual(Object.keys(example.answer).sort());
            expect(call.body, what).toMatchObject({ rejected: [] });
            expect(call.body.messageId, what).toMatch(/^<.+>$/);
            expect(call.body.response, what).toMatch(/^250 2\.0\.0 OK/);
            const [to] = call.body.accepted as string[];
            const message = await kit.waitForMessage((m) => m.envelope.rcptTo.includes(to ?? ''));
            expect(message.identity.appId).toBe(kit.clientId);
            break;
          }
          case '/api/auth/login':
            expect(call.body, what).toEqual({ admin: { id: expect.any(String), email: ADMIN_EMAIL } });
            break;
          case '/api/email-servers':
            expect(
              call.body.emailServers.map((e: Json) => e.id),
              what,
            ).toEqual([id]);
            // After the actions above, the entry's last test is theirs (the send test's, when it ran).
            if (result.calls.slice(0, result.calls.indexOf(call)).some((c) => c.path.endsWith('/send-test')))
              expect(call.body.emailServers[0].lastTest, what).toMatchObject({
                ok: true,
                check: 'send-test',
              });
            break;
          case '/api/email-servers/{id}/test-token':
            expect(call.body, what).toMatchObject({ ok: true, tokenType: expect.any(String) });
            expect(JSON.stringify(call.body)).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);
            break;
          case '/api/email-servers/{id}/diagnose':
            expect(call.body.ok, what).toBe(true);
            expect(
              call.body.steps.map((s: Json) => s.id),
              what,
            ).toContain('message');
            break;
          case '/api/email-servers/{id}/send-test':
            expect(call.body.ok, what).toBe(true);
            expect(call.body.sent.accepted, what).toEqual(['you@example.com']);
            break;
          case '/api/sent-log':
            // The send-test above (diagnose's test message is not a send of the entry's mailer).
            expect(call.body.entries.length, what).toBeGreaterThanOrEqual(1);
            expect(
              call.body.entries.every((e: Json) => e.status === 'sent' && e.serverId === id),
              what,
            ).toBe(true);
            break;
          default:
            throw new Error(
              `${example.where}: docs-examples.test.ts does not know what ${path} answers; teach it`,
            );
        }
      }
    },
    90_000,
  );
});

/** `| 413 | MESSAGE_TOO_LARGE |` rows of the POST /api/send status table. */
function sendStatusTable(): { status: number; when: string }[] {
  const start = readme.indexOf('| status | when');
  if (start < 0) throw new Error(`${README} has no status table for POST /api/send`);
  const rows: { status: number; when: string }[] = [];
  for (const line of readme.slice(start).split('\n').slice(2)) {
    const m = /^\|\s*(\d{3})\s*\|(.*)\|\s*$/.exec(line);
    if (!m) break;
    rows.push({ status: Number(m[1]), when: (m[2] ?? '').trim() });
  }
  return rows;
}

/** The keys the README's error shape names: `{ "error": { "code", "message", "hint"?, … } }`. */
function documentedErrorKeys(): { required: string[]; optional: string[] } {
  const shape = /`\{ "error": \{ (.*?) \} \}`/.exec(readme)?.[1];
  if (!shape) throw new Error(`${README} no longer shows the error shape`);
  const top = shape.replace(/\[[^\]]*\]/g, '');
  const keys = [...top.matchAll(/"(\w+)"(\?)?/g)];
  return {
    required: keys.filter((k) => !k[2]).map((k) => k[1] as string),
    optional: keys.filter((k) => k[2]).map((k) => k[1] as string),
  };
}

describeDrivers(`${README}: POST /api/send answers with the documented statuses`, (driver) => {
  let h: Harness | undefined;
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await h?.close();
    await env?.close();
    h = undefined;
    env = undefined;
  });

  it('every status of the table, each error in the documented shape', async () => {
    env = await createTestEnvironment();
    const kit = env;
    h = await startHarness(driver, {
      now: () => new Date(kit.clock.now()),
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'] },
    });
    const harness = h;
    await harness.login();
    const id = (await json(await harness.api('/api/email-servers', { body: kit.config }))).emailServer.id;
    const key = (await json(await harness.api('/api/api-keys', { body: { name: 'docs' } }))).key as string;
    const send = (
      body: unknown,
      bearer = key,
      raw?: string,
      headers: Record<string, string> = { prefer: 'wait=30' },
    ) =>
      harness.api('/api/send', {
        ...(raw === undefined ? { body } : { raw }),
        cookie: false,
        headers: { authorization: `Bearer ${bearer}`, ...headers },
      });
    const { required, optional } = documentedErrorKeys();
    const seen = new Map<number, string[]>();
    const expectStatus = async (res: Response, status: number, code?: RegExp) => {
      const body = await json(res);
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (status >= 400) {
        expect(Object.keys(body)).toEqual(['error']);
        for (const k of required) expect(body.error, `error.${k}`).toHaveProperty(k);
        for (const k of Object.keys(body.error))
          expect([...required, ...optional], `error.${k}`).toContain(k);
        if (code) expect(body.error.code).toMatch(code);
      }
      seen.set(status, [...(seen.get(status) ?? []), body.error?.code ?? 'ok']);
      return body;
    };

    const ok = await expectStatus(await send({ to: 'a@example.com', subject: 'Table', text: 'hi' }), 200);
    expect(ok.rejected).toEqual([]);
    const queued = await expectStatus(
      await send({ to: 'a@example.com', subject: 'Queued', text: 'hi' }, key, undefined, {
        'idempotency-key': 'k1',
      }),
      202,
    );
    expect(Object.keys(queued).sort()).toEqual(['id', 'messageId', 'status']);
    // Delivered before the faults below are set up (they must hit the next sends, not this one).
    await kit.waitForMessage((m) => m.messageId === queued.messageId, { timeoutMs: 30_000 });
    await expectStatus(
      await send({ to: 'a@example.com', subject: 'Other', text: 'hi' }, key, undefined, {
        'idempotency-key': 'k1',
      }),
      422,
      /^IDEMPOTENCY_KEY_REUSED$/,
    );
    const crlf = await expectStatus(
      await send({ to: 'a@example.com', subject: 'x\r\nBcc: b@example.com', text: 'hi' }),
      400,
      /^MESSAGE_/,
    );
    expect(crlf.error.issues[0].path).toBe('subject');
    await expectStatus(await send({ to: 'a@example.com', subject: 'x', nope: 1 }), 400);
    await expectStatus(await send({ to: 'a@example.com' }, 'smtpo_not-a-key'), 401);
    await expectStatus(await harness.api('/api/send', { body: { to: 'a@example.com' }, cookie: false }), 401);
    await expectStatus(await send({ server: 'no such entry', to: 'a@example.com' }), 404);
    // Outside the key's binding (issue 13 §4).
    const keyId = (await json(await harness.api('/api/api-keys'))).apiKeys[0].id as string;
    await harness.api(`/api/api-keys/${keyId}/scope`, {
      method: 'PUT',
      body: { emailServerIds: [id], allowedFrom: ['elsewhere.example'] },
    });
    await expectStatus(await send({ to: 'a@example.com', subject: 'x', text: 'hi' }), 403, /^API_KEY_SCOPE$/);
    await harness.api(`/api/api-keys/${keyId}/scope`, { method: 'PUT', body: { emailServerIds: [id] } });
    // Over the request-body limit (1 MB by default).
    await expectStatus(
      await send(undefined, key, JSON.stringify({ to: 'a@example.com', text: 'x'.repeat(1_100_000) })),
      413,
    );
    // Exchange refuses the size at the end of DATA.
    kit.faults.smtp.add({
      stage: 'data-end',
      reply: '552 5.3.4 Message size exceeds fixed maximum message size',
    });
    await expectStatus(
      await send({ to: 'a@example.com', subject: 'big', text: 'hi' }),
      413,
      /^MESSAGE_TOO_LARGE$/,
    );
    kit.faults.smtp.add({ stage: 'rcpt', reply: '550 5.7.1 Recipient refused by policy', times: 'always' });
    const upstream = await expectStatus(
      await send({ to: 'a@example.com', subject: 'no', text: 'hi' }),
      502,
      /^SMTP_/,
    );
    expect(typeof upstream.error.hint).toBe('string');
    kit.faults.smtp.clear();
    // Deleting the only entry leaves no default.
    expect((await harness.api(`/api/email-servers/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await expectStatus(await send({ to: 'a@example.com', subject: 'x', text: 'hi' }), 409, /^NO_DEFAULT/);
    // A fresh entry, then shutdown begins: the outbox takes nothing more and says when to come back.
    await harness.api('/api/email-servers', { body: kit.config });
    await harness.server.context.outbox.stop(0);
    const closing = await send({ to: 'a@example.com', subject: 'late', text: 'hi' });
    expect(closing.headers.get('retry-after')).toMatch(/^\d+$/);
    await expectStatus(closing, 503, /^SHUTTING_DOWN$/);

    expect([...seen.keys()].sort()).toEqual(
      sendStatusTable()
        .map((r) => r.status)
        .sort(),
    );
  }, 90_000);
});
