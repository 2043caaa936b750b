import nodemailer from 'nodemailer';
import type { RelayStatus } from './relay.js';

/** What the WebAdmin's test button gets back: the relay's own answer, as a device would see it. */
export interface RelaySelfTestResult {
  ok: boolean;
  /** The relay's final reply (`250 … queued as …`, or the refusal such as `535 5.7.8 …`). */
  reply: string;
  /** The listener used. */
  port: number;
  mode: 'starttls' | 'tls';
}

/**
 * Sends a short test message through the relay itself, like a device would: connect to the first
 * listener over loopback, TLS (the relay's certificate pinned by its exact PEM), AUTH with the
 * device's credentials, one message. So the test covers the credentials, the device's policy and
 * the delivery through its entry.
 */
export async function relaySelfTest(
  status: RelayStatus,
  certPem: string,
  input: { username: string; password: string; from: string; to: string },
): Promise<RelaySelfTestResult> {
  const listener = status.listeners.find((l) => l.listening);
  if (!listener) return { ok: false, reply: 'The relay is not listening', port: 0, mode: 'starttls' };
  const host = listener.host === '0.0.0.0' || listener.host === '::' ? '127.0.0.1' : listener.host;
  const transport = nodemailer.createTransport({
    host,
    port: listener.port,
    secure: listener.mode === 'tls',
    requireTLS: true,
    auth: { user: input.username, pass: input.password },
    // Pinned: the exact certificate the relay serves, whatever names it carries.
    tls: { ca: certPem, checkServerIdentity: () => undefined },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({
      from: input.from,
      to: input.to,
      subject: 'Relay test from the WebAdmin',
      text: 'This message went through the SMTP relay with the device credentials, like a device would send it.',
    });
    return { ok: true, reply: info.response, port: listener.port, mode: listener.mode };
  } catch (error) {
    const e = error as { response?: string; message?: string };
    return {
      ok: false,
      reply: (e.response ?? e.message ?? 'failed').slice(0, 500),
      port: listener.port,
      mode: listener.mode,
    };
  } finally {
    transport.close();
  }
}
