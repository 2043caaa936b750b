/**
 * The packages as a developer gets them: `pnpm pack` of core, testkit and cli, `npm install` of the
 * tarballs into a fresh project outside the workspace (dependencies from the npm registry), then
 * ESM import, CJS require, a type-check under moduleResolution node16 and bundler, the README's
 * library example against the testkit, and the installed `smtp-oauth` bin.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const PUBLISHED = ['core', 'testkit', 'cli'] as const;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 540_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const describeRun = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

let work: string;
let app: string;
const tarballs: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'smtp-oauth-pack-'));
  const out = join(work, 'tarballs');
  mkdirSync(out);
  for (const name of PUBLISHED) {
    const r = await run('pnpm', ['pack', '--pack-destination', out], { cwd: join(PACKAGES, name) });
    expect(r.code, describeRun(r)).toBe(0);
  }
  for (const file of readdirSync(out)) {
    const name = /^org-(core|testkit|cli)-/.exec(file)?.[1];
    if (name) tarballs[name] = join(out, file);
  }
  expect(Object.keys(tarballs).sort()).toEqual(['cli', 'core', 'testkit']);

  // A fresh project outside the workspace: nothing resolves from the monorepo's node_modules.
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      tarballs.core as string,
      tarballs.testkit as string,
      tarballs.cli as string,
      '@types/node@20',
    ],
    { cwd: app },
  );
  expect(install.code, describeRun(install)).toBe(0);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('each tarball', () => {
  it.each(PUBLISHED)(
    '%s carries LICENSE, README, repository fields and self-contained source maps',
    async (name) => {
      const dir = join(work, `unpacked-${name}`);
      mkdirSync(dir);
      const r = await run('tar', ['-xzf', tarballs[name] as string, '-C', dir], { cwd: work });
      expect(r.code, describeRun(r)).toBe(0);
      const root = join(dir, 'package');
      const files = readdirSync(root, { recursive: true }) as string[];
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      expect(pkg.repository?.url).toMatch(/^git\+https:\/\//);
      expect(pkg.homepage).toMatch(/^https:\/\//);
      expect(pkg.bugs?.url).toMatch(/^https:\/\//);
      expect(JSON.stringify(pkg)).not.toMatch(/workspace:|catalog:/);
      // Regression: 104 source maps pointed at ../src/*.ts, which is not shipped.
      const maps = files.filter((f) => f.endsWith('.map'));
      for (const map of maps) {
        const parsed = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sourcesContent?: unknown[] };
        expect(parsed.sourcesContent?.length, `${map} has no sourcesContent`).toBeGreaterThan(0);
      }
    },
  );
});

describe('the installed packages', () => {
  it('import @org/core (and its subpaths) from ESM', async () => {
    const r = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const core = await import('@org/core');
         const config = await import('@org/core/config');
         if (typeof core.createMailer !== 'function' || typeof config.parseConfig !== 'function') process.exit(1);
         console.log(Object.keys(core).length);`,
      ],
      { cwd: app },
    );
    expect(r.code, describeRun(r)).toBe(0);
    expect(Number(r.stdout)).toBeGreaterThan(30);
  });

  it('require @org/core from CommonJS', async () => {
    writeFileSync(
      join(app, 'check.cjs'),
      `const core = require('@org/core');
       if (typeof core.createMailer !== 'function') process.exit(1);
       const r = core.parseConfig({});
       console.log(r.ok === false ? 'refused' : 'accepted');`,
    );
    const r = await run(process.execPath, ['check.cjs'], { cwd: app });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.trim()).toBe('refused');
  });

  it.each(['node16', 'bundler'])('type-check under moduleResolution %s', async (resolution) => {
    const dir = join(app, `ts-${resolution}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'check.ts'),
      `import { createMailer, type MailMessage, type SendResult, SmtpOAuthError } from '@org/core';
import { parseConfig } from '@org/core/config';
import { createTestEnvironment } from '@org/testkit';

export async function check(): Promise<SendResult | undefined> {
  const env = await createTestEnvironment();
  const parsed = parseConfig(env.config);
  if (!parsed.ok) return undefined;
  const message: MailMessage = { to: ['a@example.com'], subject: 'typed', text: 'x', priority: 'high' };
  try {
    return await createMailer(parsed.config).send(message);
  } catch (err) {
    if (err instanceof SmtpOAuthError) console.error(err.code, err.hint);
    return undefined;
  } finally {
    await env.close();
  }
}
`,
    );
    writeFileSync(join(dir, 'readme-example.ts'), readmeExample());
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: resolution === 'node16' ? 'node16' : 'esnext',
          moduleResolution: resolution,
          strict: true,
          noUncheckedIndexedAccess: true,
          noEmit: true,
          types: ['node'],
          // Checks the packages' own declarations too: they must compile for their users.
          skipLibCheck: false,
        },
        include: ['*.ts'],
      }),
    );
    const r = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: app });
    expect(r.code, describeRun(r)).toBe(0);
  });

  describe('the README library example', () => {
    let env: TestEnvironment;
    beforeAll(async () => {
      env = await createTestEnvironment();
    });
    afterAll(async () => {
      await env?.close();
    });

    it('runs unchanged against the testkit', async () => {
      const { credential: _secret, ...auth } = env.config.auth;
      writeFileSync(
        join(app, 'smtp-oauth.config.json'),
        JSON.stringify({
          ...env.config,
          auth: { ...auth, credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' } },
        }),
      );
      writeFileSync(join(app, 'readme-example.mjs'), readmeExample());
      const r = await run(process.execPath, ['readme-example.mjs'], {
        cwd: app,
        env: { SMTP_OAUTH_CLIENT_SECRET: env.clientSecret },
      });
      expect(r.code, describeRun(r)).toBe(0);
      const stored = await env.waitForMessage((m) => m.parsed.subject === 'Hello', { timeoutMs: 60_000 });
      expect(r.stdout).toContain(`sent ${stored.messageId}`);
      expect(stored.parsed.attachments[0]?.content.toString('utf8')).toBe('hello');
    });
  });

  it('runs smtp-oauth --version from the installed bin', async () => {
    const r = await run(join(app, 'node_modules', '.bin', 'smtp-oauth'), ['--version'], { cwd: app });
    expect(r.code, describeRun(r)).toBe(0);
    const version = JSON.parse(readFileSync(join(PACKAGES, 'cli', 'package.json'), 'utf8')).version;
    expect(r.stdout.trim()).toBe(version);
  });
});

/** The first ```ts block of core's README: the library example a developer copies. */
function readmeExample(): string {
  const readme = readFileSync(join(PACKAGES, 'core', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('packages/core/README.md has no ```ts example');
  return code;
}
