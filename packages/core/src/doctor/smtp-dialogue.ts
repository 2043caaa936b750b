/**
 * A deliberately small SMTP client for diagnostics. The doctor needs every reply verbatim as
 * evidence (nodemailer hides most of them), and it must decide itself when to stop — e.g. never
 * send AUTH over a connection that did not reach TLS.
 */
import { isIP, type Socket, connect as netConnect } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { redactSecrets } from '../errors/redact.js';
import { authCommandLines, OAUTHBEARER_ERROR_ACK, type OAuth2Mechanism } from '../mailer/sasl.js';

/** One complete SMTP reply (possibly multi-line). */
export interface SmtpReply {
  code: number;
  /** Every line as the server sent it, e.g. `250-SIZE 157286400`. */
  lines: string[];
  /** All lines joined with a newline. */
  text: string;
}

export interface TlsDetails {
  protocol: string | null;
  cipher: string | undefined;
  subject: string | undefined;
  issuer: string | undefined;
  validTo: Date | undefined;
  altNames: string | undefined;
}

/** Thrown when the server closes the connection or a reply times out. */
export class DialogueError extends Error {
  override name = 'DialogueError';
  constructor(
    message: string,
    readonly code: 'ETIMEDOUT' | 'ECONNRESET' | 'EPROTOCOL',
  ) {
    super(message);
  }
}

export interface DialogueConnectOptions {
  /** The address to connect to (already resolved: the checked address is the one connected to). */
  address: string;
  port: number;
  timeoutMs: number;
}

/** TLS settings for the upgrade (STARTTLS, or right after connecting for implicit TLS). */
export interface DialogueTlsOptions {
  ca?: string | string[];
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

function tlsOptions(host: string, tls: DialogueTlsOptions): ConnectionOptions {
  return {
    // SNI must not be an IP literal; verification still checks `host` against the certificate.
    ...(isIP(host) ? {} : { servername: host }),
    host,
    ca: tls.ca,
    minVersion: tls.minVersion ?? 'TLSv1.2',
    rejectUnauthorized: true,
  };
}

function describeName(name: Record<string, string | string[]> | undefined): string | undefined {
  if (!name) return undefined;
  const parts = Object.entries(name).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`);
  return parts.length ? parts.join(', ') : undefined;
}

/** A line-oriented SMTP conversation with a transcript of redacted `C:`/`S:` lines. */
export class SmtpDialogue {
  readonly transcript: string[] = [];
  private buffer = '';
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | undefined;
  private closedError: Error | undefined;
  private replyLines: string[] = [];
  private readonly queue: SmtpReply[] = [];
  private socket: Socket | TLSSocket;

  private constructor(
    socket: Socket | TLSSocket,
    private readonly timeoutMs: number,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Opens the TCP connection. Does not read the greeting (implicit TLS: call {@link startTls} first). */
  static async open(options: DialogueConnectOptions): Promise<SmtpDialogue> {
    const socket = await whenReady(
      netConnect({ host: options.address, port: options.port }),
      'connect',
      options.timeoutMs,
      `connect ETIMEDOUT ${options.address}:${options.port}`,
    );
    return new SmtpDialogue(socket, options.timeoutMs);
  }

  get isTls(): boolean {
    return 'encrypted' in this.socket && this.socket.encrypted === true;
  }

  get closed(): boolean {
    return this.closedError !== undefined || this.socket.destroyed;
  }

  tlsDetails(): TlsDetails | undefined {
    if (!this.isTls) return undefined;
    const s = this.socket as TLSSocket;
    const cert = s.getPeerCertificate();
    const validTo = cert?.valid_to ? new Date(cert.valid_to) : undefined;
    return {
      protocol: s.getProtocol(),
      cipher: s.getCipher()?.name,
      subject: describeName(cert?.subject as unknown as Record<string, string> | undefined),
      issuer: describeName(cert?.issuer as unknown as Record<string, string> | undefined),
      validTo: validTo && !Number.isNaN(validTo.getTime()) ? validTo : undefined,
      altNames: cert?.subjectaltname,
    };
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', this.onData);
    socket.on('error', this.onClose);
    socket.on('close', this.onCloseEvent);
  }

  private detach(socket: Socket | TLSSocket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onClose);
    socket.off('close', this.onCloseEvent);
  }

  private readonly onData = (chunk: string): void => {
    this.buffer += chunk;
    let i = this.buffer.indexOf('\n');
    while (i >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.onLine(line);
      i = this.buffer.indexOf('\n');
    }
  };

  private onLine(line: string): void {
    this.replyLines.push(line);
    // The last line of a reply has a space (or nothing) after the code; `NNN-` continues.
    if (!/^\d{3}-/.test(line)) {
      const lines = this.replyLines;
      this.replyLines = [];
      const code = Number(lines[lines.length - 1]?.slice(0, 3));
      const reply: SmtpReply = { code: Number.isNaN(code) ? 0 : code, lines, text: lines.join('\n') };
      for (const l of lines) this.transcript.push(`S: ${redactSecrets(l)}`);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(reply);
      } else this.queue.push(reply);
    }
  }

  private readonly onCloseEvent = (): void => this.onClose(undefined);

  private readonly onClose = (err: Error | undefined): void => {
    if (this.closedError) return;
    this.closedError = err ?? new DialogueError('Server closed the connection', 'ECONNRESET');
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.closedError);
  };

  /** Waits for the next complete reply. */
  read(): Promise<SmtpReply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new DialogueError(`No reply within ${this.timeoutMs} ms`, 'ETIMEDOUT'));
      }, this.timeoutMs);
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /**
   * Sends one command line and reads its reply. `shown` replaces the line in the transcript
   * (used for AUTH blobs, which carry the token).
   */
  async command(line: string, shown?: string): Promise<SmtpReply> {
    this.write(line, shown);
    return this.read();
  }

  /**
   * Runs one OAuth2 SASL exchange (RFC 4954 §4): the initial response on the AUTH line only when
   * the line stays within 512 octets, else `AUTH <mechanism>` → `334` → the response on its own
   * line — the same rule the mailer follows. An error challenge (`334` after the response, as
   * Gmail and OAUTHBEARER servers send) is answered as the mechanism prescribes (an empty line for
   * XOAUTH2, `%x01` for OAUTHBEARER), so the final reply is the one returned. The transcript shows
   * `shown` instead of the response.
   */
  async authenticate(
    mechanism: OAuth2Mechanism,
    initialResponse: string,
    shown: string,
  ): Promise<{ reply: SmtpReply; challenge?: string; twoStep: boolean }> {
    const lines = authCommandLines(mechanism, initialResponse);
    let reply: SmtpReply;
    if (lines.continuation === undefined) {
      reply = await this.command(lines.command, `AUTH ${mechanism} ${shown}`);
    } else {
      reply = await this.command(lines.command);
      if (reply.code !== 334) return { reply, twoStep: true };
      reply = await this.command(lines.continuation, shown);
    }
    let challenge: string | undefined;
    if (reply.code === 334) {
      challenge = reply.lines[0]?.slice(4) ?? '';
      reply =
        mechanism === 'OAUTHBEARER'
          ? await this.command(OAUTHBEARER_ERROR_ACK, '<%x01: acknowledges the error challenge>')
          : await this.command('', '<empty response to the challenge>');
    }
    return {
      reply,
      ...(challenge !== undefined ? { challenge } : {}),
      twoStep: lines.continuation !== undefined,
    };
  }

  /** Writes raw data (a message body) without reading; the transcript gets `shown`. */
  write(data: string, shown?: string): void {
    if (this.closedError) throw this.closedError;
    this.transcript.push(`C: ${shown ?? redactSecrets(data)}`);
    this.socket.write(`${data}\r\n`);
  }

  /** Upgrades the plain connection to TLS (after a `220` reply to STARTTLS, or at once for port 465). */
  async startTls(host: string, tls: DialogueTlsOptions): Promise<void> {
    const plain = this.socket;
    this.detach(plain);
    const secure = await whenReady(
      tlsConnect({ ...tlsOptions(host, tls), socket: plain }),
      'secureConnect',
      this.timeoutMs,
      `TLS handshake timed out after ${this.timeoutMs} ms`,
    );
    this.socket = secure;
    this.buffer = '';
    this.attach(secure);
  }

  /** Sends QUIT (best effort) and closes the socket. */
  async close(): Promise<void> {
    if (!this.closed) {
      try {
        this.write('QUIT');
        await Promise.race([this.read(), new Promise((r) => setTimeout(r, 500))]);
      } catch {
        // The server may close first; either way we are done.
      }
    }
    this.socket.destroy();
  }
}

/** Parses EHLO reply lines into capability keywords (upper-case) → parameters. */
export function parseCapabilities(reply: SmtpReply): Map<string, string[]> {
  const caps = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line.slice(4).trim().split(/\s+/);
    const [keyword, ...params] = words;
    if (keyword)
      caps.set(
        keyword.toUpperCase(),
        params.map((p) => p.toUpperCase()),
      );
  }
  return caps;
}

/**
 * Resolves with the socket once it emits `event` (TCP connect, TLS handshake); rejects with its
 * error, or with an ETIMEDOUT error after `timeoutMs`, destroying it either way.
 */
function whenReady<S extends Socket>(
  socket: S,
  event: 'connect' | 'secureConnect',
  timeoutMs: number,
  timeoutMessage: string,
): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(timeoutMessage), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}
