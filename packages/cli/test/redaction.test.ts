import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { createCertificateAuthority } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { output, runCli } from './helpers.js';

// Regression (issue 13 §6): an SMTP server that echoed the AUTH PLAIN blob in its 535 reply got the
// base64 of the password into `smtp-oauth send --json`.

const PASSWORD = 'CANARY-pw-Zq81!x';
const USER = 'canary-user@example.com';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A minimal ESMTP server on a raw socket (STARTTLS, then AUTH) that quotes what the client sent for
 * AUTH in its 535 reply — the misbehaviour the redaction must survive.
 */
function echoingSmtpServer(mechanism: 'PLAIN' | 'LOGIN', tls: { key: string; cert: string }): Server {
  return createServer((raw) => {
    let socket: Socket = raw;
    let secure = false;
    let state: 'command' | 'plain' | 'login-user' | 'login-pass' = 'command';
    let buffer = '';
    const reply = (line: string) => socket.write(`${line}\r\n`);
    const handle = (line: string) => {
      if (state === 'plain') return reply(`535 5.7.8 Authentication credentials invalid: ${line}`);
      if (state === 'login-user') {
        state = 'login-pass';
        return reply('334 UGFzc3dvcmQ6');
      }
      if (state === 'login-pass') return reply(`535 5.7.8 Authentication failed for response ${line}`);
      const [verb = '', ...args] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          return reply(secure ? `250-canary\r\n250 AUTH ${mechanism}` : '250-canary\r\n250 STARTTLS');
        case 'STARTTLS': {
          reply('220 2.0.0 go ahead');
          raw.removeListener('data', onData);
          socket = new TLSSocket(raw, { isServer: true, key: tls.key, cert: tls.cert });
          socket.on('data', onData);
          socket.on('error', () => {});
          secure = true;
          return;
        }
        case 'AUTH':
          if (args[1]) return reply(`535 5.7.8 Authentication credentials invalid: ${args[1]}`);
          state = args[0]?.toUpperCase() === 'LOGIN' ? 'login-user' : 'plain';
          return reply(state === 'plain' ? '334 ' : '334 VXNlcm5hbWU6');
        case 'QUIT':
          reply('221 2.0.0 bye');
          return socket.end();
        default:
          return reply('250 2.0.0 OK');
      }
    };
    const onData = (data: Buffer) => {
      buffer += data.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        handle(line);
      }
    };
    raw.on('data', onData);
    raw.on('error', () => {});
    reply('220 canary ESMTP');
  });
}

describe('credential redaction with an SMTP server that echoes AUTH (S4)', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const mechanism of ['PLAIN', 'LOGIN'] as const) {
    it(`AUTH ${mechanism}: the --json error carries the 535 but no form of the password`, async () => {
      const ca = createCertificateAuthority();
      const leaf = ca.issueServerCertificate({ hosts: ['127.0.0.1'] });
      server = echoingSmtpServer(mechanism, { key: leaf.privateKeyPem, cert: leaf.certificatePem });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-redact-'));
      const config = join(dir, 'smtp-oauth.json');
      writeFileSync(
        config,
        JSON.stringify({
          name: 'echo',
          host: '127.0.0.1',
          port,
          security: 'starttls',
          user: USER,
          auth: { type: 'password', password: 'env:CANARY_PASSWORD' },
        }),
      );
      writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
      const r = await runCli(
        [
          '--config',
          config,
          '--ca',
          join(dir, 'ca.pem'),
          'send',
          '--json',
          '--to',
          'a@example.com',
          '--subject',
          's',
        ],
        { cwd: dir, env: { CANARY_PASSWORD: PASSWORD }, input: 'body\n' },
      );
      const all = output(r);
      expect(r.code, all).not.toBe(0);
      const json = JSON.parse(r.stdout) as { error: { code: string; details: { reply: string } } };
      expect(json.error.details.reply).toMatch(/^535 5\.7\.8 Authentication/);
      expect(json.error.details.reply).toContain('[REDACTED]');
      for (const canary of [
        PASSWORD,
        b64(PASSWORD),
        b64(PASSWORD).replace(/=+$/, ''),
        b64(`\0${USER}\0${PASSWORD}`),
        b64(`\0${USER}\0${PASSWORD}`).slice(0, 24),
      ])
        expect(all).not.toContain(canary);
    });
  }
});
