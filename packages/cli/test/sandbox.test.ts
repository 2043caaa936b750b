import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, output, runCli } from './helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('smtp-oauth sandbox', () => {
  it('writes a ready config (no secret in it), serves doctor and send, and cleans up on SIGINT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-sandbox-'));
    const cwd = dir;
    const child = spawn(process.execPath, [BIN, 'sandbox', '--json', '--dir', 'box'], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    const info = await new Promise<{ configFile: string; clientId: string; inspectUrl: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${stdout}`)), 30_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          // Regression: the document was pretty-printed over many lines; a script reads one line.
          if (!stdout.includes('\n')) return;
          clearTimeout(timer);
          try {
            resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    try {
      expect(info.configFile).toBe(join(cwd, 'box', 'smtp-oauth.config.json'));
      expect(stdout).not.toContain('clientSecret');
      const config = readFileSync(info.configFile, 'utf8');
      expect(config).not.toContain('PRIVATE KEY');
      expect(JSON.parse(config).auth.credential.privateKeyPem).toBe('file:./client-private-key.pem');

      const doctor = await runCli(['doctor', '--config', 'box/smtp-oauth.config.json'], { cwd });
      expect(doctor.code, output(doctor)).toBe(0);
      const send = await runCli(
        [
          'send',
          '--config',
          'box/smtp-oauth.config.json',
          '--to',
          'a@example.com',
          '--subject',
          'sandbox hello',
        ],
        {
          cwd,
          input: 'hello',
        },
      );
      expect(send.code, output(send)).toBe(0);
      const messages = (await (await fetch(`${info.inspectUrl}/api/messages`)).json()) as unknown;
      expect(JSON.stringify(messages)).toContain('sandbox hello');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(existsSync(info.configFile)).toBe(false);
  });
});
