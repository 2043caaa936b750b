/**
 * Every config example in the docs must be valid for core's schema, so the docs cannot rot.
 * Checked: fenced blocks whose info string is `json config`, `yaml config` (files, loaded with
 * loadConfigFile) or `sh env` (variables, loaded with configFromEnv). `env:` / `file:` references
 * resolve to dummy values through the loader's injectable env and readFile; nothing touches the
 * disk or the real environment.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configEnvVariables, configFromEnv, loadConfigFile } from '../src/config/load.js';
import { configJsonSchema, parseConfig } from '../src/config/index.js';
import { diagnose } from '../src/doctor/index.js';
import { errorCodes } from '../src/errors/index.js';

const DOCS = ['configuration.md', 'microsoft-365-setup.md'] as const;
const docPath = (name: string) => fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));
const docText = (name: string) => readFileSync(docPath(name), 'utf8');

interface Block {
  doc: string;
  line: number;
  lang: string;
  tag: string;
  text: string;
}

/** Fenced code blocks with their info string, e.g. ```yaml config. */
function codeBlocks(doc: string): Block[] {
  const blocks: Block[] = [];
  const lines = docText(doc).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', lang = '', tag = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').trim().startsWith(fence)) {
      body.push((lines[j] ?? '').slice(indent.length));
      j++;
    }
    blocks.push({ doc, line: i + 1, lang, tag: tag.trim(), text: body.join('\n') });
    i = j;
  }
  return blocks;
}

const allBlocks = DOCS.flatMap(codeBlocks);
const configBlocks = allBlocks.filter((b) => b.tag === 'config');
const envBlocks = allBlocks.filter((b) => b.lang === 'sh' && b.tag === 'env');

// Dummy values that satisfy the schema's shape checks (PEM armour, base64), never real secrets.
const DUMMY_CERT = '-----BEGIN CERTIFICATE-----\nMIIBdocsexample\n-----END CERTIFICATE-----\n';
const DUMMY_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEdocsexample\n-----END PRIVATE KEY-----\n';
const DUMMY_SECRET = 'docs~example.secret-value';

function dummyFile(path: string): Uint8Array {
  const name = basename(path).toLowerCase();
  if (/\.(pfx|p12)$/.test(name)) return new Uint8Array([0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03]);
  if (/key/.test(name)) return new TextEncoder().encode(DUMMY_KEY);
  if (/\.(pem|crt|cer)$/.test(name)) return new TextEncoder().encode(DUMMY_CERT);
  return new TextEncoder().encode(`${DUMMY_SECRET}\n`);
}

/** Any variable name resolves, like a fully provisioned deployment would. */
const dummyEnv = new Proxy({} as Record<string, string | undefined>, {
  get: (_target, name) => (typeof name === 'string' ? DUMMY_SECRET : undefined),
  has: () => true,
});

function where(b: Block): string {
  return `${b.doc}:${b.line} (\`\`\`${b.lang} ${b.tag})`;
}

describe('config examples in the docs', () => {
  it('exist in both pages, and only as json or yaml', () => {
    for (const doc of DOCS) expect(configBlocks.filter((b) => b.doc === doc).length).toBeGreaterThan(0);
    for (const b of configBlocks) expect(['json', 'yaml'], where(b)).toContain(b.lang);
  });

  it.each(configBlocks.map((b) => [where(b), b] as const))(
    '%s is accepted by parseConfig',
    async (_name, b) => {
      const file = `/docs-example/example-${b.line}.${b.lang === 'json' ? 'json' : 'yaml'}`;
      const readPaths: string[] = [];
      const readFile = async (path: string): Promise<Uint8Array> => {
        if (path === file) return new TextEncoder().encode(b.text);
        readPaths.push(path);
        return dummyFile(path);
      };
      let loaded: Awaited<ReturnType<typeof loadConfigFile>>;
      try {
        loaded = await loadConfigFile(file, { env: dummyEnv, readFile });
      } catch (err) {
        throw new Error(`${where(b)} is not a valid config: ${(err as Error).message}`);
      }
      expect(loaded.servers.length).toBeGreaterThan(0);
      for (const entry of loaded.servers) {
        const result = parseConfig(entry);
        expect(result.ok, `${where(b)}: ${JSON.stringify(result.ok ? [] : result.issues)}`).toBe(true);
        // Secret references were resolved, not kept as literal text.
        expect(JSON.stringify(entry)).not.toMatch(/"(?:env|file):/);
      }
      // Relative file: references resolve next to the config file.
      for (const p of readPaths) expect(p.startsWith('/') || /^[A-Za-z]:/.test(p)).toBe(true);
    },
  );
});

describe('environment examples in the docs', () => {
  it('exist', () => {
    expect(envBlocks.length).toBeGreaterThan(0);
  });

  it.each(envBlocks.map((b) => [where(b), b] as const))(
    '%s is accepted by configFromEnv',
    async (_name, b) => {
      const env: Record<string, string> = {};
      for (const raw of b.text.split('\n')) {
        const line = raw.trim();
        if (!line || line.startsWith('#')) continue;
        const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        expect(m, `${where(b)}: "${line}" is not NAME=value`).not.toBeNull();
        env[m?.[1] ?? ''] = (m?.[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
      }
      for (const name of Object.keys(env))
        expect(
          configEnvVariables.map((v) => v.name),
          `${where(b)}: ${name}`,
        ).toContain(name);
      const { config } = await configFromEnv(env, { readFile: async (path) => dummyFile(path) });
      expect(parseConfig(config).ok).toBe(true);
    },
  );
});

/** Dotted paths of every field the JSON Schema of an entry knows. */
function schemaPaths(): Set<string> {
  const paths = new Set<string>();
  const visit = (node: unknown, prefix: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      if (Array.isArray(n[key])) for (const sub of n[key] as unknown[]) visit(sub, prefix);
    if (n.properties && typeof n.properties === 'object')
      for (const [name, sub] of Object.entries(n.properties as Record<string, unknown>)) {
        if (name === '$schema' || name === 'servers') {
          if (name === 'servers') visit((sub as { items?: unknown }).items, prefix);
          continue;
        }
        const path = prefix ? `${prefix}.${name}` : name;
        paths.add(path);
        visit(sub, path);
      }
  };
  visit(configJsonSchema(), '');
  return paths;
}

describe('docs stay in step with the code', () => {
  const paths = schemaPaths();

  it('configuration.md documents every field of the schema', () => {
    const text = docText('configuration.md');
    // Leaves only: a group such as `limits` is documented through its fields.
    const leaves = [...paths].filter((p) => ![...paths].some((q) => q.startsWith(`${p}.`)));
    expect(leaves.length).toBeGreaterThan(15);
    const missing = leaves.filter((p) => !text.includes(`\`${p}\``));
    expect(missing, 'fields missing from docs/configuration.md').toEqual([]);
  });

  it('configuration.md lists every variable configFromEnv reads', () => {
    const text = docText('configuration.md');
    const missing = configEnvVariables.map((v) => v.name).filter((n) => !text.includes(`\`${n}\``));
    expect(missing, 'variables missing from docs/configuration.md').toEqual([]);
  });

  it.each(DOCS)('%s names only config fields that exist', (doc) => {
    const text = docText(doc);
    const named = new Set(
      [...text.matchAll(/`((?:auth|tls|limits)\.[A-Za-z.]+[A-Za-z])`/g)].map((m) => m[1] ?? ''),
    );
    expect(named.size).toBeGreaterThan(3);
    const unknown = [...named].filter((p) => !paths.has(p));
    expect(unknown, `unknown config fields in docs/${doc}`).toEqual([]);
  });

  it.each(DOCS)('%s names only error codes from the catalog', (doc) => {
    const text = docText(doc);
    const prefixes = /^(?:CONFIG|CREDENTIAL|TOKEN|TLS|SMTP|NETWORK|MESSAGE)_[A-Z_]+$/;
    const named = [...text.matchAll(/`([A-Z][A-Z0-9_]+)`/g)]
      .map((m) => m[1] ?? '')
      .filter((c) => prefixes.test(c) && !c.startsWith('SMTP_OAUTH_'));
    const unknown = named.filter((c) => !(errorCodes as readonly string[]).includes(c));
    expect(unknown, `unknown error codes in docs/${doc}`).toEqual([]);
  });

  it('microsoft-365-setup.md names only diagnostic steps the doctor has', async () => {
    // An empty entry fails the config step; the doctor reports every later step as skipped, without I/O.
    const stepIds = (await diagnose({})).steps.map((s) => s.id);
    const text = docText('microsoft-365-setup.md');
    const named = [...text.matchAll(/[Dd]octor steps? ((?:`[a-z]+`(?:,? (?:and |or |then )?)?)+)/g)].flatMap(
      (m) => [...(m[1] ?? '').matchAll(/`([a-z]+)`/g)].map((x) => x[1] ?? ''),
    );
    expect(named.length).toBeGreaterThan(5);
    const unknown = named.filter((id) => !stepIds.includes(id as (typeof stepIds)[number]));
    expect(unknown, 'unknown doctor steps in docs/microsoft-365-setup.md').toEqual([]);
  });
});
