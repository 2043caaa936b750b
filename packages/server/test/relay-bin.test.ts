import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config.js';
import { runBin, waitForOutput } from './helpers/child-process.js';
import { rawSmtp } from './helpers/relay.js';

const BIN = fileURLToPath(new URL('../src/bin/server.ts', import.meta.url));

describe('relay settings (RELAY_*)', () => {
  it('off by default; ports with their modes; 465 defaults to implicit TLS', () => {
    expect(loadSettings({}).relay).toBeUndefined();
    const s = loadSettings({
      DATA_DIR: '/tmp/d',
      RELAY_LISTEN: '587, 465, 2525:tls',
      RELAY_HOST: '127.0.0.1',
    });
    expect(s.relay).toEqual({
      listeners: [
        { port: 587, host: '127.0.0.1', mode: 'starttls' },
        { port: 465, host: '127.0.0.1', mode: 'tls' },
        { port: 2525, host: '127.0.0.1', mode: 'tls' },
      ],
      tls: { dir: '/tmp/d/relay' },
      allowInsecureAuthOnLoopback: false,
    });
  });

  it('bad values name the variable and the fix', () => {
    expect(() => loadSettings({ RELAY_LISTEN: '587:ssl' })).toThrow(
      /RELAY_LISTEN has an invalid entry "587:ssl"/,
    );
    expect(() => loadSettings({ RELAY_LISTEN: '587', RELAY_TLS_CERT_FILE: '/x.pem' })).toThrow(
      /RELAY_TLS_CERT_FILE and RELAY_TLS_KEY_FILE go together/,
    );
    expect(() => loadSettings({ RELAY_LISTEN: '587', RELAY_MAX_MESSAGE_BYTES: '10' })).toThrow(
      /RELAY_MAX_MESSAGE_BYTES/,
    );
  });
});

let dataDir: string | undefined;
afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('the server starts the relay when configured; the generated certificate survives kill -9', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'smtp-oauth-relay-bin-'));
  const env = { PORT: '0', DATA_DIR: dataDir, RELAY_LISTEN: '0', RELAY_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const start = async () => {
    const bin = runBin(BIN, [], env, ['--import', 'tsx']);
    const [, port, fingerprint] = await waitForOutput(
      bin.output,
      /SMTP relay on 127\.0\.0\.1:(\d+) \(starttls\), certificate SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/,
      30_000,
    );
    return { bin, port: Number(port), fingerprint: fingerprint! };
  };
  const first = await start();
  const smtp = await rawSmtp(first.port);
  expect(await smtp.reply()).toMatch(/^220 /);
  smtp.write('EHLO scanner\r\nMAIL FROM:<someone@contoso.com>\r\n');
  await smtp.reply();
  expect(await smtp.reply()).toMatch(/^530 5\.7\.0 /);
  smtp.close();
  first.bin.child.kill('SIGKILL');
  await first.bin.exited;

  const second = await start();
  expect(second.fingerprint).toBe(first.fingerprint);
  second.bin.child.kill('SIGTERM');
  expect(await second.bin.exited).toBe(0);
});

describe('relay certificate', () => {
  it('from files: the operator’s certificate and its fingerprint; unreadable or bad files name the setting', async () => {
    const { createCertificateAuthority } = await import('@org/testkit');
    const { X509Certificate } = await import('node:crypto');
    const { writeFile } = await import('node:fs/promises');
    const { loadRelayTls } = await import('../src/relay/tls.js');
    const dir = await mkdtemp(join(tmpdir(), 'relay-tls-files-'));
    dataDir = dir;
    const issued = createCertificateAuthority().issueServerCertificate({ hosts: ['relay.contoso.test'] });
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    await writeFile(certFile, issued.certificatePem);
    await writeFile(keyFile, issued.privateKeyPem);
    const tls = loadRelayTls({ certFile, keyFile });
    expect(tls.info).toMatchObject({
      source: 'files',
      fingerprintSha256: new X509Certificate(issued.certificatePem).fingerprint256,
    });
    expect(JSON.stringify(tls.info)).not.toMatch(/PRIVATE KEY/);
    expect(() => loadRelayTls({ certFile: join(dir, 'missing.pem'), keyFile })).toThrow(
      /relay\.tls\.certFile: cannot read .*missing\.pem \(ENOENT\)/,
    );
    expect(() => loadRelayTls({ certFile: keyFile, keyFile })).toThrow(
      /relay\.tls\.certFile: not a PEM certificate/,
    );
  });
});
