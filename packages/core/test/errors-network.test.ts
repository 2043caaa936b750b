import { once } from 'node:events';
import { createServer, connect as netConnect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { errorFromNetwork } from '../src/errors/index.js';
import { makeCertificate } from './fixtures/certs.js';

function errno(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} something`), { code, ...extra });
}

async function captureSocketError(connect: () => { once: (e: 'error', cb: (err: Error) => void) => void }) {
  return new Promise<Error>((resolve) => connect().once('error', resolve));
}

describe('errorFromNetwork', () => {
  it('maps a real ECONNREFUSED on 127.0.0.1 to NETWORK_CONNECT, transient', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const err = await captureSocketError(() => netConnect(port, '127.0.0.1'));
    const mapped = errorFromNetwork(err, { host: '127.0.0.1' });
    expect(mapped?.code).toBe('NETWORK_CONNECT');
    expect(mapped?.transient).toBe(true);
    expect(mapped?.cause).toBe(err);
    expect(mapped?.details.errno).toBe('ECONNREFUSED');
  });

  it('maps a real self-signed server certificate to TLS_CERTIFICATE_INVALID, permanent', async () => {
    const cert = makeCertificate({ cn: 'localhost' });
    const server = createTlsServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (s) => s.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const err = await captureSocketError(() =>
        tlsConnect({ port, host: '127.0.0.1', servername: 'localhost' }),
      );
      const mapped = errorFromNetwork(err);
      expect(mapped?.code).toBe('TLS_CERTIFICATE_INVALID');
      expect(mapped?.transient).toBe(false);
      expect(mapped?.details.errno).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      server.close();
    }
  });

  it.each([
    ['ENOTFOUND', 'NETWORK_DNS'],
    ['EAI_AGAIN', 'NETWORK_DNS'],
    ['ECONNREFUSED', 'NETWORK_CONNECT'],
    ['ECONNRESET', 'NETWORK_CONNECT'],
    ['EHOSTUNREACH', 'NETWORK_CONNECT'],
    ['ETIMEDOUT', 'NETWORK_TIMEOUT'],
    ['UND_ERR_CONNECT_TIMEOUT', 'NETWORK_TIMEOUT'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS_CERTIFICATE_INVALID'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS_CERTIFICATE_INVALID'],
    ['CERT_HAS_EXPIRED', 'TLS_CERTIFICATE_INVALID'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_CERTIFICATE_INVALID'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS_HANDSHAKE_FAILED'],
    ['EPROTO', 'TLS_HANDSHAKE_FAILED'],
  ])('%s → %s', (code, expected) => {
    expect(errorFromNetwork(errno(code, { hostname: 'smtp.office365.com' }))?.code).toBe(expected);
  });

  it('names the host in the message and the altname hint', () => {
    const mapped = errorFromNetwork(errno('ERR_TLS_CERT_ALTNAME_INVALID'), { host: 'mail.contoso.com' });
    expect(mapped?.message).toContain('mail.contoso.com');
    expect(mapped?.hint).toContain('mail.contoso.com');
  });

  it('unwraps fetch-style "fetch failed" errors through cause', () => {
    const err = new TypeError('fetch failed', { cause: errno('ENOTFOUND', { hostname: 'login.example' }) });
    const mapped = errorFromNetwork(err);
    expect(mapped?.code).toBe('NETWORK_DNS');
    expect(mapped?.message).toContain('login.example');
  });

  it("maps nodemailer's STARTTLS refusal (requireTLS) to TLS_REQUIRED", () => {
    const err = errno('ETLS', { command: 'STARTTLS', response: '502 5.5.1 Unrecognized command' });
    err.message = 'Error upgrading connection with STARTTLS';
    expect(errorFromNetwork(err)?.code).toBe('TLS_REQUIRED');
  });

  it("maps nodemailer's wrapped TLS certificate failure to TLS_CERTIFICATE_INVALID", () => {
    const err = errno('ETLS', { command: 'CONN' });
    err.message = 'Error initiating TLS - self-signed certificate';
    expect(errorFromNetwork(err)?.code).toBe('TLS_CERTIFICATE_INVALID');
  });

  it('returns undefined for errors that are not network errors', () => {
    expect(errorFromNetwork(new Error('plain'))).toBeUndefined();
    expect(errorFromNetwork('string')).toBeUndefined();
    expect(errorFromNetwork(errno('EWHATEVER'))).toBeUndefined();
  });
});
