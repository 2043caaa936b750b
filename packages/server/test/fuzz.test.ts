import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDrivers } from './helpers/drivers.js';
import { type Harness, type Json, json, secretEntry, startHarness } from './helpers/harness.js';

// S15: thousands of random and mutated bodies against every route → zero 5xx, server still answers.
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\r\nBcc: victim@example.com',
  '../../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal log4j-style probe
  '${jndi:ldap://x}',
  "'; drop table admins; --",
  '<script>alert(1)</script>',
  '\ud800',
  '🙂'.repeat(50),
  'x'.repeat(5000),
  '__proto__',
  'constructor',
  'https://login.microsoftonline.com.evil.tld/t/oauth2/v2.0/token',
  'http://169.254.169.254/latest',
  '::ffff:127.0.0.1',
  '1e309',
  'null',
];
const KEYS = [
  'name',
  'host',
  'port',
  'auth',
  'type',
  'credential',
  'secret',
  'kind',
  '__proto__',
  'constructor',
  'prototype',
  'email',
  'password',
  'x',
  'to',
  'subject',
  'headers',
  'attachments',
  'server',
];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, 65536, 587][Math.floor(r() * 8)];
    case 3:
      return NASTY_STRINGS[Math.floor(r() * NASTY_STRINGS.length)];
    case 4:
      return r()
        .toString(36)
        .repeat(Math.floor(r() * 4));
    case 5:
      return undefined;
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(r() * 5); i++)
        o[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Replaces, deletes or retypes one leaf of a valid body. */
function mutate(r: () => number, valid: unknown): unknown {
  const copy = structuredClone(valid) as Record<string, unknown>;
  const paths: string[][] = [];
  const walk = (o: unknown, p: string[]) => {
    if (o && typeof o === 'object')
      for (const [k, v] of Object.entries(o)) {
        paths.push([...p, k]);
        walk(v, [...p, k]);
      }
  };
  walk(copy, []);
  for (let n = 0; n < 1 + Math.floor(r() * 3); n++) {
    const path = paths[Math.floor(r() * paths.length)];
    if (!path) break;
    let parent: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) parent = (parent[k] ?? {}) as Record<string, unknown>;
    // An earlier mutation may have replaced an ancestor with a scalar.
    if (typeof parent !== 'object' || parent === null) continue;
    const key = path.at(-1)!;
    const op = r();
    if (op < 0.3) delete parent[key];
    else if (op < 0.9) parent[key] = randomValue(r);
    else parent[`${key}_extra`] = randomValue(r);
  }
  return copy;
}

/** URL-encodes; a lone surrogate becomes invalid UTF-8 percent-escapes (a good case in itself). */
function enc(value: unknown): string {
  try {
    return encodeURIComponent(String(value));
  } catch {
    return '%ED%A0%80%';
  }
}

function rawBody(r: () => number, value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  const op = r();
  if (op < 0.8) return text;
  if (op < 0.9) return text.slice(0, Math.floor(r() * text.length));
  return `${text}${['}', ']', ',', '"', '\\', '\u0000'][Math.floor(r() * 6)]}`;
}

describeDrivers('fuzz', (driver) => {
  let h: Harness;
  let serverId = '';
  let apiKeyId = '';
  let sendKey = '';
  let kitId = '';
  let env: TestEnvironment;
  beforeAll(async () => {
    // /api/send is fuzzed too: its default entry is the testkit, so valid messages really go out
    // (to 127.0.0.1 only).
    env = await createTestEnvironment({ limits: false });
    h = await startHarness(driver, {
      tokenHostAllowlist: ['127.0.0.1'],
      smtp: { allowedAddresses: ['127.0.0.1'], resolveHost: async () => ['52.96.0.10'] },
      // Thousands of deliberately refused requests from one address: the denial limit (429, tested in
      // audit-flood.test.ts) would otherwise answer most of them before the routes under test.
      audit: { maxDeniedPerSource: 1_000_000 },
    });
    await h.login();
    kitId = (await json(await h.api('/api/email-servers', { body: env.config }))).emailServer.id;
    serverId = (await json(await h.api('/api/email-servers', { body: secretEntry({ name: 'fuzz-target' }) })))
      .emailServer.id;
    await h.api(`/api/email-servers/${kitId}/default`, { method: 'POST' });
    apiKeyId = (await json(await h.api('/api/api-keys', { body: { name: 'fuzz' } }))).apiKey.id;
    sendKey = (await json(await h.api('/api/api-keys', { body: { name: 'fuzz-send' } }))).key;
  });
  afterAll(async () => {
    await h?.close();
    await env?.close();
  });

  it(`${ITERATIONS} random/mutated requests → zero 5xx`, async () => {
    const r = prng(SEED);
    const valid: Record<string, unknown> = {
      login: { email: 'admin@example.test', password: 'guess' },
      apiKey: { name: 'key' },
      server: secretEntry({ name: 'fuzz' }),
      message: {
        to: ['a@example.com', { name: 'B', address: 'b@example.com' }],
        subject: 'fuzz',
        text: 'hello',
        headers: { 'X-Fuzz': '1' },
        attachments: [{ filename: 'a.txt', content: 'x' }],
      },
    };
    const routes: { method: string; path: () => string; body?: keyof typeof valid; apiKey?: true }[] = [
      { method: 'POST', path: () => '/api/send', body: 'message', apiKey: true },
      { method: 'POST', path: () => '/api/send', body: 'message', apiKey: true },
      { method: 'POST', path: () => '/api/auth/login', body: 'login' },
      { method: 'POST', path: () => '/api/api-keys', body: 'apiKey' },
      { method: 'POST', path: () => '/api/email-servers', body: 'server' },
      {
        method: 'PUT',
        path: () => `/api/email-servers/${r() < 0.8 ? serverId : enc(randomValue(r))}`,
        body: 'server',
      },
      {
        method: 'POST',
        // Only the testkit entry may become the default: sends must never leave 127.0.0.1.
        path: () => `/api/email-servers/${r() < 0.5 ? kitId : 'nope'}/default`,
        body: 'apiKey',
      },
      { method: 'DELETE', path: () => `/api/api-keys/${r() < 0.5 ? apiKeyId : enc(randomValue(r))}` },
      { method: 'GET', path: () => `/api/audit?limit=${enc(randomValue(r))}&before=${enc(randomValue(r))}` },
      { method: 'GET', path: () => `/api/sent-log?limit=${enc(randomValue(r))}&serverId=x&serverId=y` },
      { method: 'GET', path: () => `/api/email-servers/${enc(randomValue(r))}` },
    ];
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    const contentTypes = [
      'application/json',
      'application/json',
      'application/json',
      'text/plain',
      'application/json; charset=utf-16',
      'application/merge-patch+json',
    ];
    let sent = 0;
    while (sent < ITERATIONS) {
      const batch = Array.from({ length: Math.min(16, ITERATIONS - sent) }, async () => {
        const route = routes[Math.floor(r() * routes.length)]!;
        const base = route.body ? valid[route.body] : undefined;
        const value = base === undefined ? randomValue(r) : r() < 0.6 ? mutate(r, base) : randomValue(r);
        const body = route.method === 'GET' ? undefined : rawBody(r, value);
        const path = route.path();
        const res = await h.api(path, {
          method: route.method,
          ...(body !== undefined ? { raw: body } : {}),
          headers: {
            'content-type': contentTypes[Math.floor(r() * contentTypes.length)]!,
            ...(route.apiKey ? { authorization: `Bearer ${sendKey}` } : {}),
          },
          ...(route.apiKey ? { cookie: false as const } : {}),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // A 502 is the upstream's answer (the testkit refusing a recipient), with core's code — not a crash.
        const upstream = res.status === 502 && route.apiKey && /"code":"SMTP_/.test(text);
        if (route.apiKey)
          expect(text, 'a send must never try a non-loopback host').not.toMatch(/NETWORK_DNS/);
        if (res.status >= 500 && !upstream)
          fiveHundreds.push(
            `${route.method} ${path} ${body?.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`,
          );
        else if (res.status >= 400) {
          const parsed = JSON.parse(text) as Json;
          expect(typeof parsed.error.code).toBe('string');
        }
      });
      sent += batch.length;
      await Promise.all(batch);
    }
    const summary = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(`[fuzz ${driver.name}] ${sent} requests (seed ${SEED}): ${summary}`);
    expect(fiveHundreds).toEqual([]);
    expect((await h.api('/api/health')).status).toBe(200);
    expect((await h.api('/api/auth/me')).status).toBe(200);
  }, 120_000);

  // Regression (issue 13 §5): 5,000 nested arrays in `cc` on /api/send was a 500 (RangeError in
  // postMessage to the mailer thread), and the same in an entry update (structuredClone before
  // validation). Every route with a body gets deep nesting, long strings, many keys and wide arrays.
  it('hostile shapes on every route: deep nesting, long strings, many keys → zero 5xx', async () => {
    const deepArrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const deepObjects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const shapes: Record<string, string> = {
      'deep arrays (5000)': deepArrays(5000),
      'deep objects (5000)': deepObjects(5000),
      'deep arrays (40)': deepArrays(40),
      'long string (900 KB)': JSON.stringify('x'.repeat(900_000)),
      'many keys (30000)': manyKeys(30_000),
      'wide array (200000)': `[${Array(200_000).fill(0).join(',')}]`,
    };
    const message = { to: 'a@example.com', subject: 's', text: 't' };
    const entry = secretEntry({ name: 'fuzz-target' });
    const targets: {
      method: string;
      path: string;
      base: Record<string, unknown>;
      fields: string[];
      apiKey?: true;
    }[] = [
      {
        method: 'POST',
        path: '/api/send',
        base: message,
        fields: ['cc', 'to', 'headers', 'attachments', 'subject'],
        apiKey: true,
      },
      {
        method: 'PUT',
        path: `/api/email-servers/${serverId}`,
        base: entry,
        fields: ['auth', 'tls', 'limits', 'name'],
      },
      { method: 'POST', path: '/api/email-servers', base: entry, fields: ['auth', 'host'] },
      {
        method: 'POST',
        path: '/api/auth/login',
        base: { email: 'x@example.com', password: 'p' },
        fields: ['email', 'password'],
      },
      { method: 'POST', path: '/api/api-keys', base: { name: 'k' }, fields: ['name'] },
      {
        method: 'POST',
        path: `/api/email-servers/${serverId}/send-test`,
        base: { to: 'a@example.com' },
        fields: ['to'],
      },
      {
        method: 'POST',
        path: `/api/email-servers/${serverId}/diagnose`,
        base: { sendTestTo: 'a@example.com' },
        fields: ['sendTestTo'],
      },
    ];
    const failures: string[] = [];
    for (const t of targets) {
      const bodies = [
        ...Object.entries(shapes).map(([name, raw]) => ({ name: `whole body: ${name}`, raw })),
        ...t.fields.flatMap((field) =>
          Object.entries(shapes).map(([name, raw]) => {
            const json = JSON.stringify({ ...t.base, [field]: '__SHAPE__' });
            return { name: `${field}: ${name}`, raw: json.replace('"__SHAPE__"', raw) };
          }),
        ),
      ];
      for (const b of bodies) {
        const res = await h.api(t.path, {
          method: t.method,
          raw: b.raw,
          ...(t.apiKey ? { headers: { authorization: `Bearer ${sendKey}` }, cookie: false as const } : {}),
        });
        const text = await res.text();
        if (res.status >= 500)
          failures.push(`${t.method} ${t.path} ${b.name} → ${res.status} ${text.slice(0, 200)}`);
        else if (res.status >= 400) expect(typeof (JSON.parse(text) as Json).error.code).toBe('string');
      }
    }
    expect(failures).toEqual([]);
    // The repro: 10 KB with 5000 nested arrays in cc is a 400 naming the field.
    const res = await h.api('/api/send', {
      raw: JSON.stringify({ ...message, cc: '__' }).replace('"__"', deepArrays(5000)),
      headers: { authorization: `Bearer ${sendKey}` },
      cookie: false,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({
      code: 'BODY_TOO_COMPLEX',
      issues: [{ path: expect.stringMatching(/^cc(\[0\])+$/) }],
    });
    expect((await h.api('/api/health')).status).toBe(200);
  }, 300_000);
});
