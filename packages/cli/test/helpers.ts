import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestEnvironment } from '@org/testkit';

/** The built binary: the tests exercise exactly what users run. */
export const BIN = fileURLToPath(new URL('../dist/bin/smtp-oauth.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const SECRET_ENV = 'SMTP_OAUTH_CLIENT_SECRET';

/**
 * Runs `node dist/bin/smtp-oauth.js …` with a clean environment (no SMTP_OAUTH_* from the parent),
 * stdin from `input` (closed right away when absent, so nothing waits for a terminal).
 */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @org/cli build\` first`);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env,
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
      reject(new Error(`smtp-oauth ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface Workspace {
  dir: string;
  /** `--config <file> --ca <ca.pem>` for the env's entry, with the secret as an env: reference. */
  args: string[];
  /** The variables the subprocess needs (the secret). */
  env: Record<string, string>;
  configFile: string;
  write(name: string, content: string | Uint8Array): string;
  remove(): void;
}

/** A temp directory with a config file for `testEnv` (secret by reference, CA as a file). */
export function workspace(
  testEnv: TestEnvironment,
  overrides: { auth?: Record<string, unknown>; from?: string } = {},
): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-cli-'));
  const write = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const { tls: _ca, ...entry } = testEnv.config;
  const config = {
    ...entry,
    ...(overrides.from ? { from: overrides.from } : {}),
    auth: { ...entry.auth, credential: { kind: 'secret', secret: `env:${SECRET_ENV}` }, ...overrides.auth },
  };
  const configFile = write('smtp-oauth.config.json', JSON.stringify(config, null, 2));
  write('ca.pem', testEnv.caPem);
  return {
    dir,
    configFile,
    args: ['--config', configFile, '--ca', join(dir, 'ca.pem')],
    env: { [SECRET_ENV]: testEnv.clientSecret },
    write,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Everything a run printed. */
export const output = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
