import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, output, runCli } from './helpers.js';

let dir: string | undefined;
let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('smtp-oauth relay', () => {
  it('relays a device’s message (Python smtplib, STARTTLS, AUTH) through the configured entry; stops on SIGTERM', async () => {
    env = await createTestEnvironment();
    dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-relay-'));
    const cwd = dir;
    writeFileSync(join(cwd, 'smtp-oauth.config.json'), JSON.stringify(env.config));
    const made = await runCli(['relay', '--new-password', '--json'], { cwd });
    expect(made.code, output(made)).toBe(0);
    const { password, passwordSha256 } = JSON.parse(made.stdout) as {
      password: string;
      passwordSha256: string;
    };
    writeFileSync(
      join(cwd, 'devices.json'),
      JSON.stringify([{ name: 'Printer', username: 'printer', passwordSha256 }]),
    );

    const child = spawn(
      process.execPath,
      [
        BIN,
        'relay',
        '--devices',
        'devices.json',
        '--listen',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        'state',
      ],
      { cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 30_000);
        const poll = setInterval(() => {
          const m = /SMTP relay on 127\.0\.0\.1:(\d+) \(starttls\), certificate SHA-256 [0-9A-F:]{95}/.exec(
            out,
          );
          if (m) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        }, 50);
      });
      const raw = `From: <${env.mailbox}>\r\nTo: office@example.com\r\nSubject: scan\r\nMessage-ID: <scan-1@printer.test>\r\n\r\nscan attached\r\n`;
      writeFileSync(join(cwd, 'scan.eml'), raw);
      const script = [
        'import smtplib, ssl, sys',
        'ctx = ssl.create_default_context(cafile=sys.argv[2])',
        "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60) as s:",
        '    s.starttls(context=ctx)',
        "    s.login('printer', sys.argv[3])",
        "    s.sendmail(sys.argv[4], ['office@example.com'], open('scan.eml', 'rb').read())",
      ].join('\n');
      const py = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(
          'python3',
          ['-c', script, String(port), join(cwd, 'state', 'relay', 'relay-cert.pem'), password, env!.mailbox],
          { cwd },
        );
        let err = '';
        p.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d;
        });
        p.on('close', (code) => resolve({ code, err }));
      });
      expect(py.code, py.err).toBe(0);
      const delivered = await env.waitForMessage(undefined, { timeoutMs: 30_000 });
      expect(delivered.raw.toString('latin1')).toBe(raw);
      expect(delivered.identity).toMatchObject({ mailbox: env.mailbox });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).not.toContain(password);
    expect(readFileSync(join(cwd, 'devices.json'), 'utf8')).not.toContain(password);
  });

  it('a bad devices file or port list is a usage error (exit 2) naming the field', async () => {
    env = await createTestEnvironment();
    dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-relay-'));
    const cwd = dir;
    writeFileSync(join(cwd, 'smtp-oauth.config.json'), JSON.stringify(env.config));
    writeFileSync(
      join(cwd, 'devices.json'),
      JSON.stringify([{ name: 'Printer', username: 'printer', passwordSha256: 'secret' }]),
    );
    const bad = await runCli(['relay', '--devices', 'devices.json', '--listen', '0', '--data-dir', 'state'], {
      cwd,
    });
    expect(bad.code, output(bad)).toBe(2);
    expect(bad.stderr).toMatch(/devices\[0\]\.passwordSha256: must be the base64url SHA-256/);
    const port = await runCli(['relay', '--devices', 'devices.json', '--listen', '587:ssl'], { cwd });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--listen has an invalid entry "587:ssl"/);
    const delay = await runCli(
      ['relay', '--devices', 'devices.json', '--listen', '0', '--retry-first-delay', '30s'],
      { cwd },
    );
    expect(delay.code).toBe(2);
    expect(delay.stderr).toMatch(/--retry-first-delay must be a positive whole number of milliseconds/);
    const missing = await runCli(['relay'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/relay needs --devices FILE/);
  });
});
