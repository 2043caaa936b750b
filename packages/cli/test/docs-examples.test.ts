/**
 * Every `$ smtp-oauth …` line in the ```console blocks of packages/cli/README.md and of the root
 * README's "### CLI" section runs, as written, through bash against a testkit environment:
 * - the `smtp-oauth` on PATH is a shim for the built binary; the config comes from SMTP_OAUTH_CONFIG
 *   (so `config init` can still write ./smtp-oauth.config.json in the example's own directory);
 * - `$ cat FILE` followed by its content creates FILE; the files a user obviously has (USER_FILES)
 *   are created too — an example naming any other file fails;
 * - `$ curl … /api/… -d '{json}'` is sent to the testkit's inspection API before the next command;
 * - `$ echo $?` documents the exit code of the command before it; without it, 1 (internal) and 2
 *   (usage/config) fail the example;
 * - the first documented line starting with ✓, ✗ or ! must start with the same symbol when run.
 * Any other `$` line fails the parse, so a new kind of example cannot slip through untested.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInspectServer, createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type CliResult, output } from './helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Files the examples may use without showing how they were made: the user's own content. */
const USER_FILES: Record<string, string> = {
  'report.txt': 'Volume /data is 97% full.\n',
  'body.txt': 'Hello {{name}},\n\nyour invoice {{number}} is attached to your account.\n',
  'app.log': '2026-11-26T21:00:00Z disk /data 97% full\n',
};

interface Setup {
  kind: 'file';
  name: string;
  content: string;
}
interface InspectCall {
  kind: 'inspect';
  method: string;
  path: string;
  body: unknown;
  source: string;
}
interface Example {
  /** `file:line` of the command in the docs. */
  where: string;
  command: string;
  /** Lines the docs show after the command. */
  shown: string[];
  /** Exit code shown by a following `$ echo $?`. */
  exitCode?: number;
  files: Setup[];
  inspect: InspectCall[];
}

function consoleBlocks(text: string): { body: string; line: number }[] {
  const blocks: { body: string; line: number }[] = [];
  for (const m of text.matchAll(/^```console\n([\s\S]*?)^```$/gm))
    blocks.push({ body: m[1] ?? '', line: text.slice(0, m.index).split('\n').length + 1 });
  return blocks;
}

/** Reads `curl [-X M] [-H …] -d 'JSON' URL` — the only form the docs use to poke the testkit. */
function parseCurl(command: string, where: string): InspectCall {
  const body = /(?:-d|--data)\s+'([^']*)'/.exec(command)?.[1];
  const url = /\bhttps?:\/\/[^\s'"]+/.exec(command)?.[0];
  const method = /-X\s+([A-Z]+)/.exec(command)?.[1] ?? (body === undefined ? 'GET' : 'POST');
  if (!url) throw new Error(`${where}: curl without a URL: ${command}`);
  return {
    kind: 'inspect',
    method,
    path: new URL(url).pathname,
    body: body === undefined ? undefined : JSON.parse(body),
    source: command,
  };
}

function parseExamples(file: string, text: string, firstLine = 1): Example[] {
  const examples: Example[] = [];
  for (const block of consoleBlocks(text)) {
    const lines = block.body.replace(/\n$/, '').split('\n');
    const files: Setup[] = [];
    const inspect: InspectCall[] = [];
    let last: Example | undefined;
    for (let i = 0; i < lines.length; ) {
      const where = `${file}:${firstLine - 1 + block.line + i}`;
      const first = lines[i] as string;
      if (!first.startsWith('$ ')) throw new Error(`${where}: output before any command: ${first}`);
      let command = first.slice(2);
      while (command.endsWith('\\') && i + 1 < lines.length) command += `\n${lines[++i]}`;
      i++;
      const shown: string[] = [];
      while (i < lines.length && !(lines[i] as string).startsWith('$ ')) shown.push(lines[i++] as string);

      const cat = /^cat\s+([\w.-]+)$/.exec(command);
      if (cat) files.push({ kind: 'file', name: cat[1] as string, content: `${shown.join('\n')}\n` });
      else if (/^curl\s/.test(command)) inspect.push(parseCurl(command, where));
      else if (command.trim() === 'echo $?') {
        if (!last) throw new Error(`${where}: echo $? without a command before it`);
        last.exitCode = Number(shown[0]);
      } else if (/(^|\|\s*)smtp-oauth(\s|$)/.test(command)) {
        last = { where, command, shown, files: [...files], inspect: [...inspect] };
        examples.push(last);
      } else
        throw new Error(
          `${where}: docs-examples.test.ts does not know how to run "$ ${command}"; teach it, or show it outside a console block`,
        );
    }
  }
  return examples;
}

/** The root README's CLI section: from `### CLI` to the next heading of the same or a higher level. */
function rootCliSection(): { text: string; line: number } {
  const text = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = text.search(/^### CLI$/m);
  if (start < 0) throw new Error('README.md has no "### CLI" section');
  const rest = text.slice(start + '### CLI'.length);
  const end = rest.search(/^#{2,3} /m);
  return {
    text: end < 0 ? rest : rest.slice(0, end),
    line: text.slice(0, start).split('\n').length,
  };
}

const cliReadme = readFileSync(join(REPO, 'packages/cli/README.md'), 'utf8');
const root = rootCliSection();
const all = [
  ...parseExamples('packages/cli/README.md', cliReadme),
  ...parseExamples('README.md', root.text, root.line),
];
const isSandbox = (e: Example) => /^smtp-oauth\s+sandbox(\s|$)/.test(e.command);
const examples = all.filter((e) => !isSandbox(e));
const sandboxExamples = all.filter(isSandbox);

let dirs: string[] = [];
let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `smtp-oauth-docs-${label}-`));
  dirs.push(d);
  return d;
}

/** A directory holding an executable `smtp-oauth` that runs the built binary. */
function shimDir(): string {
  const dir = tempDir('bin');
  writeFileSync(join(dir, 'smtp-oauth'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
    mode: 0o755,
  });
  return dir;
}

/** The testkit entry as a user would keep it: certificate and CA as file references, no secret. */
function writeConfig(e: TestEnvironment): string {
  const dir = tempDir('config');
  writeFileSync(join(dir, 'ca.pem'), e.caPem);
  writeFileSync(join(dir, 'client-certificate.pem'), e.certificate.certificatePem);
  writeFileSync(join(dir, 'client-private-key.pem'), e.certificate.privateKeyPem, { mode: 0o600 });
  const { tls: _ca, ...entry } = e.certificateConfig;
  const config = {
    ...entry,
    auth: {
      ...entry.auth,
      credential: {
        kind: 'certificate',
        certificatePem: 'file:./client-certificate.pem',
        privateKeyPem: 'file:./client-private-key.pem',
        thumbprint: e.certificate.thumbprintSha1,
      },
    },
    tls: { ca: 'file:./ca.pem' },
  };
  const file = join(dir, 'smtp-oauth.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

function bash(
  command: string,
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`$ ${command} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

const SYMBOL = /^\s*([✓✗!])\s/;
const firstSymbol = (lines: string[]) => lines.map((l) => SYMBOL.exec(l)?.[1]).find(Boolean);

function shellEnv(cwd: string, bin: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: cwd, ...extra };
}

describe('documented CLI examples', () => {
  it('are found in both READMEs', () => {
    expect(examples.filter((e) => e.where.startsWith('packages/')).length).toBeGreaterThan(0);
    expect(examples.filter((e) => e.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(3);
    expect(sandboxExamples.length).toBeGreaterThan(0);
  });

  it.each(examples.map((e) => [`${e.where} $ ${e.command.replace(/\s*\\\n\s*/g, ' ')}`, e] as const))(
    '%s',
    async (_title, example) => {
      env = await createTestEnvironment();
      const cwd = tempDir('cwd');
      for (const [name, content] of Object.entries(USER_FILES)) writeFileSync(join(cwd, name), content);
      for (const f of example.files) writeFileSync(join(cwd, f.name), f.content);
      if (example.inspect.length) {
        const inspect = await createInspectServer(env);
        try {
          for (const call of example.inspect) {
            const res = await fetch(`${inspect.url}${call.path}`, {
              method: call.method,
              headers: { 'content-type': 'application/json' },
              ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
            });
            expect(res.status, `${call.source}: ${await res.text()}`).toBeLessThan(300);
          }
        } finally {
          await inspect.close();
        }
      }

      const r = await bash(example.command, {
        cwd,
        env: shellEnv(cwd, shimDir(), { SMTP_OAUTH_CONFIG: writeConfig(env) }),
      });
      const detail = `${example.where}\n$ ${example.command}\n${output(r)}`;
      if (example.exitCode !== undefined) expect(r.code, detail).toBe(example.exitCode);
      else expect([0, 3, 4, 5], detail).toContain(r.code);

      const documented = firstSymbol(example.shown);
      if (documented) {
        const actual = firstSymbol(r.stdout.split('\n')) ?? firstSymbol(r.stderr.split('\n'));
        expect(actual, detail).toBe(documented);
      }
    },
  );

  // Long-running: started, checked once ready, then stopped like a user would (Ctrl-C).
  // sandbox.test.ts covers doctor and send against it.
  it.each(sandboxExamples.map((e) => [`${e.where} $ ${e.command}`, e] as const))(
    '%s (until ready, then SIGINT)',
    async (_title, example) => {
      const cwd = tempDir('sandbox');
      const bin = shimDir();
      const child = spawn('bash', ['-c', `exec ${example.command}`], {
        cwd,
        env: shellEnv(cwd, bin),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`not ready:\n${stdout}\n${stderr}`)), 30_000);
          child.stdout.setEncoding('utf8').on('data', (d: string) => {
            stdout += d;
            // The whole banner is printed once the servers listen and the file is written; wait for
            // its last line (regression: resolving at the config line raced the CA line after it).
            if (/Ctrl-C stops the sandbox/.test(stdout)) {
              clearTimeout(timer);
              resolve();
            }
          });
          child.on('close', () => reject(new Error(`exited before ready:\n${stdout}\n${stderr}`)));
        });
        expect(stdout.split('\n')[0]).toBe(example.shown[0]);
        // Every label the docs show is printed, in the same order.
        const labels = (text: string[]) => text.map((l) => /^ {2}(\S.*?)\s{2,}/.exec(l)?.[1]).filter(Boolean);
        const actualLabels = labels(stdout.split('\n'));
        const shownLabels = labels(example.shown);
        expect(actualLabels.filter((l) => shownLabels.includes(l))).toEqual(shownLabels);

        // What the README says to do next: from the same directory, `use --config <the written file>`.
        const printed = /^ {2}config +(\S+)$/m.exec(stdout)?.[1] as string;
        const advised = /use `--config ([^`\s]+)`/.exec(cliReadme)?.[1];
        expect(advised && printed.endsWith(`/${advised}`), `${advised} vs ${printed}`).toBe(true);
        const v = await bash(`smtp-oauth config validate --config ${advised}`, {
          cwd,
          env: shellEnv(cwd, bin),
        });
        expect(v.code, output(v)).toBe(0);
        expect(v.stdout).toMatch(/^✓ .*sandbox valid$/m);
      } finally {
        child.kill('SIGINT');
      }
      expect(await exited, `${stdout}\n${stderr}`).toBe(0);
    },
  );
});
