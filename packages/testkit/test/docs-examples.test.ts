/**
 * Every example in docs/testkit.md runs, so the page cannot rot:
 * - the ```ts vitest example is written into a temporary directory inside this package (so that
 *   `@org/testkit`, nodemailer and vitest resolve as they would in an app), type-checked with tsc and
 *   run by vitest in a child process; every `it` in it must pass;
 * - the ```sh command starts the built bin from the repository root and prints the documented JSON keys;
 * - the ```python example runs with python3 against the built bin (its `npx testkit` is swapped for
 *   the absolute node + bin path) and asserts through the inspection API that its message arrived;
 * - every route of the inspection-API table is requested once, with the JSON bodies the table shows,
 *   and answers 2xx.
 * Needs the build (`pnpm --filter @org/testkit build`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxInfo } from '../src/index.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = 'docs/testkit.md';
const BIN = join(PKG, 'dist/bin/testkit.js');
const doc = readFileSync(join(REPO, DOC), 'utf8');

interface Block {
  lang: string;
  line: number;
  text: string;
}

function codeBlocks(text: string): Block[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? '',
    line: text.slice(0, m.index).split('\n').length,
    text: m[2] ?? '',
  }));
}

const blocks = codeBlocks(doc);
function only(lang: string): Block {
  const found = blocks.filter((b) => b.lang === lang);
  if (found.length !== 1)
    throw new Error(`${DOC} should have exactly one \`\`\`${lang} block, has ${found.length}`);
  return found[0] as Block;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  // Each child leads its own process group: this also ends a testkit a failed example left behind.
  for (const child of children.splice(0)) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running command and resolves with its first stdout line. */
function firstLine(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${err}`)),
    );
  });
}

/** A directory inside this package (gitignored pattern), so that imports resolve as in an app. */
function exampleDir(): string {
  const dir = mkdtempSync(join(PKG, '.readme-example-testkit-md-'));
  dirs.push(dir);
  return dir;
}

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs one test file with vitest in a child process, as `pnpm exec vitest run` would. */
async function runVitest(
  dir: string,
  source: string,
): Promise<{ run: Run; report: VitestReport | undefined }> {
  writeFileSync(join(dir, 'example.test.ts'), source);
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    "export default { test: { include: ['example.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } };\n",
  );
  const reportFile = join(dir, 'report.json');
  rmSync(reportFile, { force: true });
  const result = await run(
    process.execPath,
    [
      join(PKG, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--root',
      dir,
      '--config',
      join(dir, 'vitest.config.mjs'),
      '--reporter=json',
      `--outputFile=${reportFile}`,
    ],
    { cwd: dir, timeoutMs: 90_000 },
  );
  const report = existsSync(reportFile)
    ? (JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport)
    : undefined;
  return { run: result, report };
}

const tsExample = only('ts');
const where = (b: Block) => `${DOC}:${b.line} (\`\`\`${b.lang})`;

describe(`${DOC}: the vitest example`, () => {
  const itCount = [...tsExample.text.matchAll(/^it\(/gm)].length;

  it('uses the testkit for real: no placeholder client, a send and a waitForMessage', () => {
    expect(itCount).toBeGreaterThanOrEqual(2);
    expect(tsExample.text).toContain("from '@org/testkit'");
    expect(tsExample.text).toContain('env.waitForMessage(');
    expect(tsExample.text).not.toMatch(/\bmy[A-Z]\w*\(/);
  });

  it(`type-checks and every test in it passes (${where(tsExample)})`, async () => {
    const dir = exampleDir();
    writeFileSync(join(dir, 'example.test.ts'), tsExample.text);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }),
    );
    const tsc = await run(
      process.execPath,
      [join(PKG, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      { cwd: dir, timeoutMs: 90_000 },
    );
    expect(tsc.code, `${where(tsExample)} does not type-check:\n${tsc.stdout}${tsc.stderr}`).toBe(0);

    const { run: result, report } = await runVitest(dir, tsExample.text);
    const failures = report?.testResults
      .flatMap((f) => f.assertionResults)
      .filter((a) => a.status !== 'passed')
      .map((a) => `${a.title}: ${a.failureMessages.join('\n')}`)
      .join('\n');
    expect(result.code, `${where(tsExample)} failed:\n${failures ?? result.stderr}`).toBe(0);
    expect(report).toMatchObject({ numTotalTests: itCount, numPassedTests: itCount, numFailedTests: 0 });
  }, 180_000);

  it('a broken example fails this check (the runner is not a rubber stamp)', async () => {
    const broken = tsExample.text.replace(
      'expect(message.identity.appId).toBe(env.clientId);',
      'expect(message.identity.appId).toBe(env.tenantId);',
    );
    expect(broken).not.toBe(tsExample.text);
    const { run: result, report } = await runVitest(exampleDir(), broken);
    expect(result.code).not.toBe(0);
    expect(report?.numFailedTests).toBe(1);
  }, 120_000);
});

const shExample = only('sh');
const documentedJson = JSON.parse(only('json').text) as Record<string, unknown>;

describe(`${DOC}: the command line`, () => {
  it(`${where(shExample)} prints one JSON line with the documented fields`, async () => {
    const command = shExample.text.trim();
    expect(command.split('\n')).toHaveLength(1);
    const line = await firstLine('bash', ['-c', command], REPO);
    const info = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(Object.keys(documentedJson).sort());
    expect(Object.keys(info.smtp as object).sort()).toEqual(
      Object.keys(documentedJson.smtp as object).sort(),
    );
    expect(info.tokenEndpoint).toBe(`${info.authority}/oauth2/v2.0/token`);
    expect(info.scope).toBe(documentedJson.scope);
    expect(info.mailbox).toBe(documentedJson.mailbox);
  });

  it('documents exactly the options the bin takes', async () => {
    const help = await run(process.execPath, [BIN, '--help'], { cwd: REPO, timeoutMs: 20_000 });
    expect(help.code).toBe(0);
    const taken = [...help.stdout.matchAll(/^\s+(--[\w-]+)/gm)]
      .map((m) => m[1])
      .filter((o) => o !== '--json');
    const paragraph = /\nOptions:[\s\S]*?(?:\n\n|$)/.exec(doc)?.[0] ?? '';
    const documented = [...paragraph.matchAll(/`(--[\w-]+)/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(taken.sort());
  });
});

const pyExample = only('python');
const LAUNCH = '["npx", "testkit", "start", "--json"]';

describe(`${DOC}: the Python example`, () => {
  it(`${where(pyExample)} sends a message the inspection API then shows`, async () => {
    expect(pyExample.text.split(LAUNCH)).toHaveLength(2);
    const script = pyExample.text.replace(LAUNCH, JSON.stringify([process.execPath, BIN, 'start', '--json']));
    const dir = mkdtempSync(join(tmpdir(), 'testkit-docs-python-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'example.py'), script);
    const result = await run('python3', [join(dir, 'example.py')], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code, `${where(pyExample)} failed:\n${result.stderr}`).toBe(0);
    // The example's own asserts check the inspection API; make sure they are still there.
    expect(pyExample.text).toMatch(/urlopen\(kit\["inspectUrl"\] \+ "\/api\/messages"\)/);
    expect(pyExample.text).toMatch(/^\s+smtp\.send_message\(/m);
  }, 90_000);
});

// ---- the inspection-API table ----

interface Route {
  method: string;
  path: string;
  /** The JSON bodies the row shows. */
  bodies: Record<string, unknown>[];
  description: string;
}

function tableRoutes(): Route[] {
  const start = doc.indexOf('## From another language: the inspection API');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const routes: Route[] = [];
  for (const row of section.split('\n').filter((l) => /^\|\s*`/.test(l))) {
    const [, first = '', description = ''] = row.split('|').map((c) => c.trim());
    const path = /`(?:[A-Z]+ )?(\/api\/[^\s`]*)`/.exec(first)?.[1];
    const methods = [...first.matchAll(/\b(GET|POST|PUT|PATCH|DELETE)\b/g)].map((m) => m[1] as string);
    if (!path || methods.length === 0) throw new Error(`${DOC}: cannot read the table row ${row}`);
    // Request bodies only: a GET row may show its answer's shape with an ellipsis.
    const shown = [...description.matchAll(/`(\{[^`]*\})`/g)].map((m) => m[1] as string);
    for (const method of methods) {
      const bodies = method === 'POST' ? shown.map((b) => JSON.parse(b) as Record<string, unknown>) : [];
      routes.push({ method, path, bodies, description });
    }
  }
  return routes;
}

/** `action` (`param`, …) groups of the POST /api/directory row, e.g. `a` / `b` (`enabled`). */
function directoryActions(description: string): { action: string; params: string[] }[] {
  const list = description.slice(description.indexOf(':') + 1, description.indexOf('; e.g.'));
  const out: { action: string; params: string[] }[] = [];
  for (const m of list.matchAll(/((?:`\w+`\s*\/?\s*)+)(?:\(([^)]*)\))?/g)) {
    const params = [...(m[2] ?? '').matchAll(/`(\w+)`/g)].map((p) => p[1] as string);
    for (const a of (m[1] ?? '').matchAll(/`(\w+)`/g)) out.push({ action: a[1] as string, params });
  }
  return out;
}

function fetchToken(info: SandboxInfo, ca: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: info.clientId,
    client_secret: info.clientSecret,
    scope: info.scope,
  });
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const req = request(info.tokenEndpoint, { method: 'POST', ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(JSON.parse(body).access_token) : reject(new Error(body)),
      );
    });
    req.on('error', reject).end(form.toString());
  });
}

describe(`${DOC}: the inspection-API table`, () => {
  const routes = tableRoutes();

  it('lists the routes, with example bodies for the changing ones', () => {
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const r of routes.filter((x) => x.method === 'POST'))
      expect(r.bodies.length, `${r.method} ${r.path} shows no JSON body`).toBeGreaterThan(0);
  });

  it('every documented route answers 2xx to the documented request', async () => {
    const info = JSON.parse(await firstLine(process.execPath, [BIN, 'start', '--json'], REPO)) as SandboxInfo;
    const ca = readFileSync(info.caFile, 'utf8');
    const transport = nodemailer.createTransport({
      host: info.smtp.host,
      port: info.smtp.port,
      requireTLS: true,
      tls: { ca },
      auth: { type: 'OAuth2', user: info.mailbox, accessToken: await fetchToken(info, ca) },
    });
    await transport.sendMail({ from: info.mailbox, to: 'someone@example.com', subject: 'Table', text: 'hi' });
    transport.close();
    const messages = (await (await fetch(`${info.inspectUrl}/api/messages`)).json()) as { id: string }[];
    const id = messages[0]?.id ?? '';
    expect(id).not.toBe('');

    const param = (action: string, name: string): unknown => {
      switch (name) {
        case 'enabled':
          return true;
        case 'address':
          return action === 'addMailbox' ? `shared@${info.tenantDomain}` : info.mailbox;
        case 'expiresAt':
          return Date.now() + 86_400_000;
        case 'objectId':
          return '00000000-0000-4000-8000-000000000001';
        default:
          throw new Error(`${DOC}: the test has no value for the directory parameter \`${name}\``);
      }
    };

    const requested: string[] = [];
    for (const route of routes) {
      const url = `${info.inspectUrl}${route.path.replace('{id}', encodeURIComponent(id))}`;
      let bodies: unknown[] =
        route.method === 'GET' || route.method === 'DELETE' ? [undefined] : route.bodies;
      if (route.method === 'POST' && route.path === '/api/directory') {
        const actions = directoryActions(route.description);
        expect(actions.length).toBeGreaterThanOrEqual(10);
        bodies = [
          ...route.bodies,
          ...actions.map(({ action, params }) =>
            Object.fromEntries([['action', action], ...params.map((p) => [p, param(action, p)])]),
          ),
        ];
      }
      for (const body of bodies) {
        const res = await fetch(url, {
          method: route.method,
          ...(body !== undefined && {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }),
        });
        const text = await res.text();
        expect(
          res.status,
          `${route.method} ${route.path} ${JSON.stringify(body) ?? ''} → ${text}`,
        ).toBeGreaterThanOrEqual(200);
        expect(
          res.status,
          `${route.method} ${route.path} ${JSON.stringify(body) ?? ''} → ${text}`,
        ).toBeLessThan(300);
        expect(() => JSON.parse(text)).not.toThrow();
      }
      requested.push(`${route.method} ${route.path}`);
    }
    expect(requested).toEqual(expect.arrayContaining(['GET /api/messages/{id}/raw', 'POST /api/clock']));
  }, 60_000);
});
