/**
 * An SMTP submission server that answers as Exchange Online (or Gmail) does, byte for byte.
 *
 * Why not `smtp-server`: it formats EHLO its own way, advertises AUTH before TLS, and writes its
 * own reply texts and enhanced codes, so the replies users search for (`535 5.7.3 …`, `430 4.2.0 …`)
 * cannot be reproduced faithfully. This is a small state machine over node:net / node:tls instead;
 * it scans input Buffers for LF (commands) and CRLF.CRLF (DATA) and batches replies per read, so
 * it is not the bottleneck of a test suite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { type Clock, createClock } from '../clock.js';
import { createCertificateAuthority } from '../pki/index.js';
import { AuthDialogue } from './auth-dialogue.js';
import type { SmtpAuthorizer, SmtpIdentity } from './authorizer.js';
import { SmtpServerError } from './errors.js';
import { createFaultRegistry, type SmtpFault, type SmtpFaults, type SmtpFaultStage } from './faults.js';
import { MailboxCounters, resolveLimits, type SmtpLimits } from './limits.js';
import { MessageData } from './message-data.js';
import { exchangeReplies, googleReplies, type SmtpPersona } from './replies.js';
import { REDACTED, type Shared, type Step, sleep } from './session-context.js';
import {
  type AuthAttempt,
  type ParsedStoredMessage,
  type StoredMessage,
  scanHeaders,
  storedMessage,
  type TranscriptEntry,
} from './store.js';
import { waitForMessage } from './wait-for-message.js';

/** How the server offers TLS. */
export type SmtpTlsMode = 'starttls' | 'implicit-tls' | 'plain-no-starttls';

export interface SmtpServerOptions {
  /** Decides AUTH, mailbox logon and SendAs. */
  authorizer: SmtpAuthorizer;
  /** Shared clock (rate windows, daily quota, greeting date, timestamps). @default a running clock */
  clock?: Clock;
  /**
   * Server certificate. Without it the server creates a local CA and a certificate for
   * localhost/127.0.0.1/::1 and `hostname`, and exposes the CA as `caPem`.
   */
  tls?: { certificatePem: string; privateKeyPem: string; caPem?: string };
  /**
   * `starttls` (port 587 style), `implicit-tls` (465 style), or `plain-no-starttls`: no STARTTLS
   * offered and AUTH never accepted, for testing that clients refuse to send credentials in clear.
   * @default 'starttls'
   */
  mode?: SmtpTlsMode;
  /** @default 'exchange' */
  persona?: SmtpPersona;
  /** Name in the greeting, EHLO and replies. @default 'BN8PR04MB6210.namprd04.prod.outlook.com' ('smtp.gmail.com' for google) */
  hostname?: string;
  /** Listen address. @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /** Exchange's limits (on by default for the exchange persona); `false` turns all off. */
  limits?: SmtpLimits | false;
  /** Where `430 4.2.0 … mailbox logon failure` appears; both occur in the wild. @default 'mail' */
  mailboxLogonCheck?: 'mail' | 'data';
  /** `current` = `554 5.2.252 SendAsDenied; …`, `legacy` = the older `554 5.2.0 …` form. @default 'current' */
  sendAsReplyVariant?: 'current' | 'legacy';
  /** Advertise and accept OAUTHBEARER (RFC 7628). @default false for exchange, true for google */
  oauthBearer?: boolean;
  /** Idle time before `451 4.7.0 Timeout waiting for client input`. @default 600000 */
  idleTimeoutMs?: number;
  /** Longest command line in bytes. @default 65536 */
  maxLineLength?: number;
  /**
   * Exchange's High Volume Email endpoint (smtp-hve.office365.com) semantics on top of the exchange
   * persona: a token that expires within `minTokenLifetimeMs` gets `501 5.5.127 … Token will expire
   * soon`, and an XOAUTH2 user for which `isKnownUser` is false gets `501 5.5.124 … User address
   * provided is not valid` (reference §8).
   */
  highVolumeEmail?: {
    /** @default 600000 (10 minutes) */
    minTokenLifetimeMs?: number;
    /** @default every user is known (the authorizer decides) */
    isKnownUser?: (address: string) => boolean;
  };
}

/** A submission held by the per-minute rate limit. */
export interface ThrottledSubmission {
  mailbox: string;
  /** Clock time the end-of-DATA arrived. */
  since: Date;
  /** Clock time at which the window allows it, as last computed. */
  releaseAt: Date;
}

export interface SmtpServer {
  /** Listen address (`127.0.0.1`). */
  readonly host: string;
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` (`smtps://` in implicit-tls mode). */
  readonly url: string;
  /** The name the server calls itself. */
  readonly hostname: string;
  readonly mode: SmtpTlsMode;
  readonly persona: SmtpPersona;
  /** PEM of the CA that signed the server certificate, when the server created it (or was given it). */
  readonly caPem: string | undefined;
  readonly clock: Clock;
  /** Scripted faults per stage. */
  readonly faults: SmtpFaults;
  /** Accepted messages, oldest first. */
  messages(): StoredMessage[];
  /** AUTH attempts, oldest first. */
  authAttempts(): AuthAttempt[];
  /**
   * Resolves with the first stored message (already received or arriving later) that matches,
   * parsed. Rejects with `SMTP_WAIT_TIMEOUT` after `timeoutMs` (default 5000).
   */
  waitForMessage(
    predicate?: (message: ParsedStoredMessage) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<ParsedStoredMessage>;
  /** Forgets messages and AUTH attempts and resets the rate and daily-quota windows. */
  clear(): void;
  /** Current authenticated connections per mailbox. */
  connections(): Record<string, number>;
  /** Submissions currently held by the rate limit. */
  throttled(): ThrottledSubmission[];
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_EXCHANGE_HOST = 'BN8PR04MB6210.namprd04.prod.outlook.com';
const DEFAULT_GOOGLE_HOST = 'smtp.gmail.com';
class Session {
  private sock: net.Socket;
  secure = false;
  private tlsTooOld = false;
  closed = false;
  private busy = false;
  private buf: Buffer | null = null;
  private out: string[] = [];
  private readonly ip: string;

  private greeted = false;
  private ehlo = false;
  private identity: SmtpIdentity | undefined;
  private countedMailbox: string | undefined;
  private readonly authDialogue: AuthDialogue;

  private mailFrom: string | undefined;
  private rcptTo: string[] = [];
  private state: 'command' | 'data' | 'bdat' = 'command';
  private readonly message: MessageData;

  private inPreamble = true;
  private preamble: TranscriptEntry[] = [];
  private txn: TranscriptEntry[] = [];

  constructor(
    private readonly s: Shared,
    socket: net.Socket,
  ) {
    this.sock = socket;
    this.authDialogue = new AuthDialogue(s, this);
    this.message = new MessageData(s.limits.maxMessageSize);
    s.sessions.add(this);
    this.ip = (socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    socket.setNoDelay(true);
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.cleanup());
    if (s.mode === 'implicit-tls') {
      this.wrapTls(() => this.start());
    } else {
      this.attach(socket);
      this.start();
    }
  }

  // ── plumbing ────────────────────────────────────────────────────────────────

  private attach(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (chunk: Buffer) => {
      this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
    sock.setTimeout(this.s.options.idleTimeoutMs, () => {
      this.reply(this.s.replies.timeout);
      this.end();
    });
  }

  private wrapTls(onSecure: () => void) {
    const raw = this.sock;
    raw.removeAllListeners('data');
    raw.setTimeout(0);
    const t = new tls.TLSSocket(raw, { isServer: true, secureContext: this.s.secureContext });
    t.on('error', () => this.cleanup());
    t.on('close', () => this.cleanup());
    t.once('secure', () => {
      this.secure = true;
      const proto = t.getProtocol();
      this.tlsTooOld = proto === 'TLSv1' || proto === 'TLSv1.1';
      this.attach(t);
      onSecure();
    });
  }

  private start() {
    const step = this.fault('connect', () => {
      this.greeted = true;
      this.reply(this.s.replies.greeting(this.s.clock.now()));
    });
    this.run(step);
  }

  log(from: 'client' | 'server', line: string) {
    (this.inPreamble ? this.preamble : this.txn).push({ at: this.s.clock.now(), from, line });
  }

  reply(text: string) {
    this.log('server', text);
    this.out.push(text, '\r\n');
  }

  private flush() {
    if (this.out.length === 0 || this.closed) {
      this.out.length = 0;
      return;
    }
    this.sock.write(this.out.join(''));
    this.out.length = 0;
  }

  end() {
    this.flush();
    this.closed = true;
    this.sock.end();
  }

  destroy() {
    this.closed = true;
    this.sock.destroy();
    this.cleanup();
  }

  private cleanup() {
    this.closed = true;
    if (this.countedMailbox !== undefined) {
      this.s.counters.disconnect(this.countedMailbox);
      this.countedMailbox = undefined;
    }
    this.s.sessions.delete(this);
  }

  private run(step: Step) {
    if (step === undefined) {
      this.flush();
      return;
    }
    this.busy = true;
    step.then(
      () => {
        this.busy = false;
        this.flush();
        this.drain();
      },
      () => this.destroy(),
    );
  }

  private drain() {
    while (!this.busy && !this.closed && this.buf !== null && this.greeted) {
      let step: Step;
      if (this.state === 'data') {
        const chunk = this.buf;
        this.buf = null;
        step = this.consumeData(chunk);
      } else if (this.state === 'bdat') {
        step = this.consumeBdat();
      } else {
        const buf = this.buf;
        const lf = buf.indexOf(10);
        if (lf < 0) {
          if (buf.length > this.s.options.maxLineLength) {
            this.reply(this.s.replies.lineTooLong);
            this.end();
          }
          break;
        }
        const end = lf > 0 && buf[lf - 1] === 13 ? lf - 1 : lf;
        const line = buf.toString('utf8', 0, end);
        this.buf = lf + 1 < buf.length ? buf.subarray(lf + 1) : null;
        step = this.command(line);
      }
      if (step !== undefined) {
        this.run(step);
        return;
      }
    }
    this.flush();
  }

  /** Runs the stage's fault, if one fires, around `next`. */
  fault(stage: SmtpFaultStage, next: () => Step, mailbox?: string): Step {
    const f = this.s.faults.take(stage, mailbox ?? this.identity?.mailbox);
    if (!f) return next();
    return this.applyFault(f, next);
  }

  private async applyFault(f: SmtpFault, next: () => Step): Promise<void> {
    if (f.delayMs) {
      this.flush();
      await sleep(f.delayMs);
      if (this.closed) return;
    }
    if (f.dropReply) {
      await next();
      // The stage did its work (a message is stored); its reply never leaves.
      this.out.length = 0;
      this.destroy();
      return;
    }
    if (f.reply === undefined && !f.disconnect) return next();
    if (!this.greeted) this.greeted = f.reply !== undefined && !f.disconnect;
    if (f.reply !== undefined) this.reply(f.reply);
    if (f.disconnect) {
      this.flush();
      this.destroy();
    }
  }

  // ── commands ────────────────────────────────────────────────────────────────

  private command(line: string): Step {
    const r = this.s.replies;
    if (this.authDialogue.inProgress) return this.authDialogue.continue(line);
    if (this.tlsTooOld) {
      this.log('client', line);
      this.reply(r.tlsTooOld);
      this.end();
      return;
    }
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const args = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (verb === 'AUTH') {
      // The credentials never reach the transcript.
      const mechEnd = args.indexOf(' ');
      this.log('client', mechEnd < 0 ? line : `${line.slice(0, sp)} ${args.slice(0, mechEnd)} ${REDACTED}`);
    } else {
      this.log('client', line);
    }
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.fault('ehlo', () => this.helo(verb, args));
      case 'STARTTLS':
        return this.starttls();
      case 'AUTH':
        return this.auth(args);
      case 'MAIL':
        return this.mail(args);
      case 'RCPT':
        return this.rcpt(args);
      case 'DATA':
        return this.data();
      case 'BDAT':
        return this.bdat(args);
      case 'RSET':
        this.resetTransaction();
        this.reply(r.reset);
        return;
      case 'NOOP':
        this.reply(r.noop);
        return;
      case 'QUIT':
        this.reply(r.quit);
        this.end();
        return;
      default:
        this.reply(r.unrecognizedCommand);
        return;
    }
  }

  private helo(verb: string, args: string): Step {
    const r = this.s.replies;
    if (args.length === 0) {
      this.reply(r.invalidArguments);
      return;
    }
    this.resetTransaction();
    this.ehlo = true;
    if (verb === 'HELO') {
      this.reply(r.helo(this.ip));
      return;
    }
    this.reply(r.ehlo(this.ip, this.secure, this.s.mode === 'starttls', this.s.mechanisms));
  }

  private starttls(): Step {
    const r = this.s.replies;
    if (this.s.mode !== 'starttls' || this.secure) {
      this.reply(r.unrecognizedCommand);
      return;
    }
    return this.fault('starttls', () => {
      this.reply(r.starttlsReady);
      this.flush();
      // Anything pipelined after STARTTLS arrived in clear text: drop it (STARTTLS command injection).
      this.buf = null;
      this.ehlo = false;
      this.resetTransaction();
      this.busy = true;
      return new Promise<void>((resolve) => {
        this.wrapTls(() => {
          this.busy = false;
          resolve();
        });
        this.sock.once('close', () => resolve());
      });
    });
  }

  /** AUTH needs EHLO first and is refused once authenticated; the dialogue itself is auth-dialogue.ts. */
  private auth(args: string): Step {
    const r = this.s.replies;
    if (!this.ehlo) {
      this.reply(r.sendHelloFirst);
      return;
    }
    if (this.identity) {
      this.reply(r.alreadyAuthenticated);
      return;
    }
    return this.authDialogue.start(args);
  }

  authenticated(identity: SmtpIdentity): void {
    this.countedMailbox = identity.mailbox;
    this.identity = identity;
  }

  private resetTransaction() {
    this.mailFrom = undefined;
    this.rcptTo = [];
    this.message.reset();
  }

  private mail(args: string): Step {
    const r = this.s.replies;
    if (!this.ehlo) {
      this.reply(r.sendHelloFirst);
      return;
    }
    if (!this.identity) {
      this.reply(r.authRequired);
      return;
    }
    if (this.mailFrom !== undefined) {
      this.reply(r.senderAlreadySpecified);
      return;
    }
    const parsed = parsePath(args, 'FROM:');
    if (!parsed) {
      this.reply(r.invalidArguments);
      return;
    }
    const size = /(?:^|\s)SIZE=(\d+)/i.exec(parsed.params);
    if (size && Number(size[1]) > this.s.limits.maxMessageSize) {
      this.reply(r.sizeExceeded);
      return;
    }
    const identity = this.identity;
    if (this.inPreamble) this.inPreamble = false;
    return this.fault('mail', () => {
      if (this.s.persona === 'exchange' && this.s.options.mailboxLogonCheck === 'mail') {
        if (!this.s.authorizer.canOpenMailbox(identity).ok) {
          this.reply(r.mailboxLogonFailure);
          return;
        }
      }
      this.mailFrom = parsed.address;
      this.reply(r.senderOk);
    });
  }

  private rcpt(args: string): Step {
    const r = this.s.replies;
    if (this.mailFrom === undefined) {
      this.reply(r.badSequenceMail);
      return;
    }
    const parsed = parsePath(args, 'TO:');
    if (!parsed || parsed.address.length === 0) {
      this.reply(r.invalidArguments);
      return;
    }
    if (this.rcptTo.length >= this.s.limits.recipientsPerMessage) {
      this.reply(r.tooManyRecipients);
      return;
    }
    return this.fault('rcpt', () => {
      this.rcptTo.push(parsed.address);
      this.reply(r.recipientOk);
    });
  }

  private data(): Step {
    const r = this.s.replies;
    if (this.mailFrom === undefined) {
      this.reply(r.badSequenceMail);
      return;
    }
    if (this.rcptTo.length === 0) {
      this.reply(r.badSequenceRcpt);
      return;
    }
    this.state = 'data';
    this.message.startData();
    this.reply(r.startData);
  }

  private bdat(args: string): Step {
    const r = this.s.replies;
    const m = /^(\d+)(?:\s+(LAST))?\s*$/i.exec(args);
    if (!m) {
      this.reply(r.invalidArguments);
      return;
    }
    this.state = 'bdat';
    this.message.startBdat(
      Number(m[1]),
      m[2] !== undefined,
      this.mailFrom === undefined
        ? r.badSequenceMail
        : this.rcptTo.length === 0
          ? r.badSequenceRcpt
          : undefined,
    );
  }

  private consumeBdat(): Step {
    const buf = this.buf;
    if (buf === null) return;
    const { rest, end } = this.message.consumeBdat(buf);
    this.buf = rest;
    if (!end) return;
    this.state = 'command';
    this.log('client', '<BDAT chunk>');
    if (end.kind === 'refused') {
      this.reply(end.reply);
      return;
    }
    if (end.kind === 'chunk') {
      this.reply(this.s.replies.bdatChunk(end.received));
      return;
    }
    return this.finishMessage(end.raw, end.overflow);
  }

  private consumeData(chunk: Buffer): Step {
    const end = this.message.consumeData(chunk);
    if (!end) return;
    this.buf = end.rest;
    this.state = 'command';
    this.log('client', `<message data, ${end.bytes} bytes>`);
    return this.finishMessage(end.raw, end.overflow);
  }

  private finishMessage(raw: Buffer, overflow: boolean): Step {
    const mailFrom = this.mailFrom ?? '';
    const rcptTo = this.rcptTo;
    // The transaction is over whatever the reply (an injected fault included).
    this.resetTransaction();
    return this.fault('data-end', () => this.submit(raw, overflow, mailFrom, rcptTo));
  }

  private submit(raw: Buffer, overflow: boolean, mailFrom: string, rcptTo: string[]): Step {
    const r = this.s.replies;
    const identity = this.identity;
    const done = (reply: string) => {
      this.reply(reply);
      this.resetTransaction();
    };
    if (!identity) return done(r.authRequired);
    if (overflow) return done(r.sizeExceeded);
    const headers = scanHeaders(raw);
    if (this.s.persona === 'exchange') {
      if (this.s.options.mailboxLogonCheck === 'data' && !this.s.authorizer.canOpenMailbox(identity).ok) {
        return done(r.mailboxLogonFailure);
      }
      const from = headers.from ?? mailFrom.toLowerCase();
      if (from && !this.s.authorizer.canSendAs(identity, from).ok) {
        return done(r.sendAsDenied(identity.mailbox, from, this.s.options.sendAsReplyVariant));
      }
      if (this.s.counters.quotaExceeded(identity.mailbox, rcptTo.length)) return done(r.quotaExceeded);
    }
    const accept = (throttledMs: number) => {
      const now = this.s.clock.now();
      this.s.counters.recordSent(identity.mailbox);
      this.s.counters.recordRecipients(identity.mailbox, rcptTo.length);
      const messageId =
        headers.messageId ?? `<${randomBytes(16).toString('hex').toUpperCase()}@${this.s.hostname}>`;
      const reply = r.accepted(messageId, now);
      this.reply(reply);
      const transcript = this.preamble.concat(this.txn);
      this.txn = [];
      this.s.onMessage(
        storedMessage({
          id: randomUUID(),
          receivedAt: new Date(now),
          envelope: { mailFrom, rcptTo },
          identity,
          raw,
          messageId,
          throttledMs,
          transcript,
        }),
      );
      this.resetTransaction();
    };
    if (this.s.counters.rateDelay(identity.mailbox) === 0) {
      accept(0);
      return;
    }
    return this.hold(identity.mailbox).then((held) => {
      if (!this.closed) accept(held);
    });
  }

  /** Exchange delays submissions beyond the per-minute rate; hold the reply until the window allows. */
  private async hold(mailbox: string): Promise<number> {
    this.flush();
    const since = this.s.clock.now();
    const entry: ThrottledSubmission = {
      mailbox,
      since: new Date(since),
      releaseAt: new Date(since + this.s.counters.rateDelay(mailbox)),
    };
    this.s.throttled.add(entry);
    try {
      for (;;) {
        const wait = this.s.counters.rateDelay(mailbox);
        if (wait === 0 || this.closed) break;
        entry.releaseAt = new Date(this.s.clock.now() + wait);
        // A frozen clock only moves when the test advances it: poll.
        await sleep(this.s.clock.frozen ? 10 : Math.min(wait, 100));
      }
    } finally {
      this.s.throttled.delete(entry);
    }
    return this.s.clock.now() - since;
  }
}

function parsePath(args: string, prefix: string): { address: string; params: string } | undefined {
  if (args.length < prefix.length || args.slice(0, prefix.length).toUpperCase() !== prefix) return undefined;
  const rest = args.slice(prefix.length).trimStart();
  if (rest.charCodeAt(0) !== 60 /* < */) {
    // Lenient like Exchange: a bare address.
    const sp = rest.indexOf(' ');
    const address = sp < 0 ? rest : rest.slice(0, sp);
    return address ? { address, params: sp < 0 ? '' : rest.slice(sp + 1) } : undefined;
  }
  const gt = rest.indexOf('>');
  if (gt < 0) return undefined;
  return { address: rest.slice(1, gt), params: rest.slice(gt + 1).trim() };
}

/**
 * Starts an SMTP submission server that behaves like Exchange Online (or Gmail): exact greeting,
 * EHLO lines, reply texts, OAuth2 AUTH (XOAUTH2, OAUTHBEARER), Exchange's limits, scripted faults,
 * and a store of messages and AUTH attempts for assertions.
 *
 * @example
 * const smtp = await createSmtpServer({ authorizer });
 * // point nodemailer at smtp.host/smtp.port with tls: { ca: smtp.caPem }
 * const msg = await smtp.waitForMessage((m) => m.parsed.subject === 'hi');
 * await smtp.close();
 */
export async function createSmtpServer(options: SmtpServerOptions): Promise<SmtpServer> {
  if (!options?.authorizer) {
    throw new SmtpServerError(
      'SMTP_INVALID_OPTIONS',
      'createSmtpServer needs an authorizer',
      'Pass { authorizer } (for example the Exchange authorizer of the test environment).',
    );
  }
  const persona = options.persona ?? 'exchange';
  const mode = options.mode ?? 'starttls';
  const clock = options.clock ?? createClock();
  const hostname = options.hostname ?? (persona === 'exchange' ? DEFAULT_EXCHANGE_HOST : DEFAULT_GOOGLE_HOST);
  const listenHost = options.host ?? '127.0.0.1';

  let certificatePem: string;
  let privateKeyPem: string;
  let caPem: string | undefined;
  if (options.tls) {
    ({ certificatePem, privateKeyPem } = options.tls);
    caPem = options.tls.caPem;
  } else {
    // Wall-clock validity, not the test clock: TLS clients check certificates against real time.
    const ca = createCertificateAuthority();
    const leaf = ca.issueServerCertificate({ hosts: ['localhost', '127.0.0.1', '::1', hostname] });
    ({ certificatePem, privateKeyPem } = leaf);
    caPem = ca.certificatePem;
  }
  if (!certificatePem || !privateKeyPem) {
    throw new SmtpServerError(
      'SMTP_INVALID_OPTIONS',
      'tls.certificatePem and tls.privateKeyPem must both be set',
      'Omit `tls` to let the server create a CA and certificate, or pass a PEM certificate and key.',
    );
  }
  let secureContext: tls.SecureContext;
  try {
    // TLS 1.0/1.1 handshakes are allowed so the client can be told, as Exchange does, with 421 4.7.66.
    secureContext = tls.createSecureContext({
      cert: certificatePem,
      key: privateKeyPem,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
  } catch (err) {
    throw new SmtpServerError(
      'SMTP_INVALID_OPTIONS',
      'tls.certificatePem / tls.privateKeyPem are not a usable certificate and key',
      'Pass PEM text (for example from createCertificateAuthority().issueServerCertificate()).',
      { cause: err },
    );
  }

  const oauthBearer = options.oauthBearer ?? persona === 'google';
  const mechanisms =
    mode === 'plain-no-starttls'
      ? []
      : persona === 'exchange'
        ? ['LOGIN', 'XOAUTH2', ...(oauthBearer ? ['OAUTHBEARER'] : [])]
        : [
            'LOGIN',
            'PLAIN',
            'XOAUTH2',
            'PLAIN-CLIENTTOKEN',
            ...(oauthBearer ? ['OAUTHBEARER'] : []),
            'XOAUTH',
          ];
  const limits = resolveLimits(options.limits, persona);

  const messages: StoredMessage[] = [];
  const attempts: AuthAttempt[] = [];
  const listeners = new Set<(m: StoredMessage) => void>();
  const faults = createFaultRegistry();
  const counters = new MailboxCounters(limits, clock);
  const sessions = new Set<Session>();
  const throttled = new Set<ThrottledSubmission>();

  const shared: Shared = {
    options: {
      mailboxLogonCheck: options.mailboxLogonCheck ?? 'mail',
      sendAsReplyVariant: options.sendAsReplyVariant ?? 'current',
      idleTimeoutMs: options.idleTimeoutMs ?? 600_000,
      maxLineLength: options.maxLineLength ?? 65_536,
    },
    hve: options.highVolumeEmail,
    authorizer: options.authorizer,
    clock,
    persona,
    mode,
    replies: persona === 'exchange' ? exchangeReplies(hostname) : googleReplies(hostname),
    limits,
    counters,
    faults,
    secureContext,
    mechanisms,
    hostname,
    onMessage(m) {
      messages.push(m);
      for (const l of listeners) l(m);
    },
    onAuthAttempt: (a) => attempts.push(a),
    throttled,
    sessions,
  };

  const server = net.createServer((socket) => {
    new Session(shared, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new SmtpServerError(
          'SMTP_LISTEN_FAILED',
          `SMTP server could not listen on ${listenHost}:${options.port ?? 0}`,
          'Use port 0 (the default) to get a free port.',
          { cause: err },
        ),
      ),
    );
    server.listen(options.port ?? 0, listenHost, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const port = address.port;

  return {
    host: listenHost,
    port,
    url: `${mode === 'implicit-tls' ? 'smtps' : 'smtp'}://${listenHost}:${port}`,
    hostname,
    mode,
    persona,
    caPem,
    clock,
    faults: { add: faults.add, clear: faults.clear, list: faults.list },
    messages: () => messages.slice(),
    authAttempts: () => attempts.slice(),
    connections: () => counters.connectionCounts(),
    throttled: () => [...throttled].map((t) => ({ ...t })),
    clear() {
      messages.length = 0;
      attempts.length = 0;
      counters.reset();
    },
    waitForMessage: (predicate, options) => waitForMessage(messages, listeners, predicate, options),
    close() {
      for (const s of sessions) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
