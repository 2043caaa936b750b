import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server';
import type { AuditTrail } from '../audit.js';
import type { LoginLimiter } from '../auth/rate-limit.js';
import type { Logger } from '../logger.js';
import type { OutboxSubmitter } from '../outbox/types.js';
import { createLookupCache } from '../lookup-cache.js';
import type { RelayDeviceRow, RelayRepository } from '../store/relay-repository.js';
import { isLoopback } from './allow-list.js';
import { devicePasswordMatches } from './credentials.js';
import { addressesOf, editHeader, headerValue, normalizeLineEndings, readHeader } from './mime.js';
import {
  allowedSenders,
  type DevicePolicy,
  devicePolicy,
  EXCHANGE_MAX_MESSAGE_BYTES,
  entryAddresses,
} from './policy.js';
import { createRelayCounters } from './counters.js';
import { createRefusalLog, type RefusalLog } from './refusals.js';
import { RelayReply, replyForSubmitError } from './replies.js';
import { SubmissionServer } from './submission-server.js';
import { loadRelayTls, type RelayCertificateInfo, type RelayTlsSource } from './tls.js';

/** One SMTP listener. */
export interface RelayListenerOptions {
  /** 587 (submission, STARTTLS), 465 (submissions, implicit TLS), 25, or 0 for a free port (tests). */
  port: number;
  /** @default '0.0.0.0' */
  host?: string;
  /** `starttls`: plain connect, STARTTLS offered and required before AUTH (RFC 3207); `tls`: TLS from the first byte (RFC 8314). */
  mode: 'starttls' | 'tls';
}

/** Options of {@link createRelay}. */
export interface RelayOptions {
  listeners: RelayListenerOptions[];
  /** The certificate: PEM files, or `{ dir }` to generate one on first start and keep it there. */
  tls: RelayTlsSource;
  /**
   * Allow AUTH without STARTTLS from loopback peers (127.0.0.0/8, ::1) — for an application on the
   * same host. Every other peer must start TLS first. @default false
   */
  allowInsecureAuthOnLoopback?: boolean;
  /** The largest message accepted, in bytes; advertised in EHLO (SIZE, RFC 1870). @default 157286400 (150 MiB, Exchange Online's default) */
  maxMessageBytes?: number;
  /** The name in the greeting and EHLO reply. @default os.hostname() */
  hostname?: string;
  /** How often refused connections are written to the audit trail, aggregated. @default 60000 */
  refusalFlushMs?: number;
  /** How long a device row is reused (another instance's change applies within this). 0: off. @default 1000 */
  deviceCacheMs?: number;
}

/** What the relay needs from the server. */
export interface RelayDeps {
  repo: RelayRepository;
  /** The email-server entry a device relays through (`null`: the default entry); its non-secret config. */
  entry(id: string | null): Promise<{ id: string; config: Record<string, unknown> } | undefined>;
  /** Where accepted messages go; 250 is answered only after it resolves. */
  submitter: OutboxSubmitter;
  /** Failed-login throttling per source address and per user name. */
  limiter: LoginLimiter;
  audit: AuditTrail;
  logger: Logger;
  now: () => Date;
}

export interface RelayListenerStatus {
  mode: RelayListenerOptions['mode'];
  host: string;
  /** The bound port (the configured one, or the one the OS chose for 0). */
  port: number;
  listening: boolean;
}

export interface RelayStatus {
  listeners: RelayListenerStatus[];
  certificate: RelayCertificateInfo;
  maxMessageBytes: number;
  allowInsecureAuthOnLoopback: boolean;
}

export interface Relay {
  /** Binds every listener. @throws the bind error (EADDRINUSE, EACCES) naming the port. */
  start(): Promise<void>;
  status(): RelayStatus;
  /** The certificate the listeners serve (PEM; public). */
  certificatePem(): string;
  /** Writes the aggregated refusals to the audit trail now (also done periodically and at close). */
  flushRefusals(): Promise<void>;
  /** Writes pending per-device counters now (also done every second and at close). */
  flushCounters(): Promise<void>;
  /** Devices were changed here: forget cached rows, so the change applies to the next command. */
  devicesChanged(): void;
  /** Stops accepting, ends sessions, flushes the refusal log. Idempotent. */
  close(): Promise<void>;
}

/** Per-transaction state: set at MAIL FROM, cleared by the next one. */
interface Transaction {
  device: DevicePolicy;
  entryId: string;
  mailbox: string;
  senders: ReturnType<typeof allowedSenders>;
  recipients: number;
  /** Recipients already accepted today (at MAIL FROM). */
  usedToday: number;
  tooMany: boolean;
}

interface SessionState {
  /** Device id after a successful AUTH. */
  deviceId?: string;
  tx?: Transaction;
}

const sessionUser = (session: SMTPServerSession): string | undefined =>
  typeof session.user === 'string' ? session.user : undefined;

/**
 * The SMTP submission relay: devices and applications that speak only SMTP with a password (or
 * none) hand messages to it, and it hands them to the outbox, which delivers them through an
 * email-server entry with OAuth2. Built on smtp-server (protocol, STARTTLS, AUTH PLAIN/LOGIN,
 * pipelining, SIZE); this module holds the policy.
 *
 * Never an open relay: a session that has not authenticated and whose address is on no device's
 * allow-list is refused at MAIL FROM with `530 5.7.0`.
 */
export function createRelay(options: RelayOptions, deps: RelayDeps): Relay {
  const tls = loadRelayTls(options.tls, deps.now());
  const maxBytes = options.maxMessageBytes ?? EXCHANGE_MAX_MESSAGE_BYTES;
  const insecureLoopback = options.allowInsecureAuthOnLoopback ?? false;
  const name = options.hostname ?? osHostname();
  const refusals: RefusalLog = createRefusalLog(deps.audit);
  const counters = createRelayCounters({ repo: deps.repo, now: deps.now, logger: deps.logger });
  // Device rows per id and user name for a moment: the printer pattern looks each up per
  // connection. Changes through this server clear it at once (devicesChanged); another instance
  // sharing the database sees them within the TTL.
  const devices = createLookupCache<RelayDeviceRow>(options.deviceCacheMs ?? 1000);
  const allowListed = createLookupCache<RelayDeviceRow[]>(options.deviceCacheMs ?? 1000);
  const states = new Map<string, SessionState>();
  const stateOf = (session: SMTPServerSession): SessionState => {
    let s = states.get(session.id);
    if (!s) {
      s = {};
      states.set(session.id, s);
    }
    return s;
  };

  async function refuse(reply: RelayReply, deviceId: string | undefined): Promise<RelayReply> {
    if (deviceId) {
      await deps.repo.recordRefused(deviceId, reply.text, deps.now()).catch((error: Error) => {
        deps.logger.warn('relay counter write failed', { errorName: error.name });
      });
    }
    return reply;
  }

  async function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<string> {
    const peer = session.remoteAddress;
    if (!session.secure && !(insecureLoopback && isLoopback(peer)))
      throw new RelayReply(538, 'Must issue a STARTTLS command first (AUTH needs TLS on this relay)');
    const username = String(auth.username ?? '');
    const password = String(auth.password ?? '');
    // Keys of their own: relay failures never lock the WebAdmin's accounts or addresses.
    const account = `relay:${username.slice(0, 200)}`;
    const address = `relay:${peer}`;
    // Only failures are counted (unlike the WebAdmin's login, which counts before checking): a
    // generated 190-bit password cannot be guessed however many checks run in parallel, and a
    // successful login — once per message for printers — then costs two reads, no writes.
    const lockedFor = await deps.limiter.lockedFor(account, address);
    if (lockedFor > 0) {
      refusals.add(peer, 'auth-locked');
      throw new RelayReply(
        454,
        `Too many failed logins from this address or for this user; try again in ${Math.ceil(lockedFor / 60)} minute(s)`,
      );
    }
    const row = username
      ? await devices.get(`user:${username}`, () => deps.repo.findByUsername(username))
      : undefined;
    const ok =
      row !== undefined && Number(row.enabled) === 1 && devicePasswordMatches(password, row.password_hash);
    if (!ok) {
      await deps.limiter.begin(account, address);
      await deps.limiter.failed(account, address);
      refusals.add(peer, 'auth-failed');
      const reply = new RelayReply(
        535,
        'Authentication credentials invalid: check the device user name and password in the WebAdmin under Relay (a disabled device cannot log in)',
      );
      throw await refuse(reply, row?.id);
    }
    stateOf(session).deviceId = row.id;
    return row.id;
  }

  /** The device this session sends as: the authenticated one, or one whose allow-list has the peer. */
  async function deviceFor(session: SMTPServerSession): Promise<DevicePolicy | undefined> {
    const id = sessionUser(session) ?? stateOf(session).deviceId;
    if (id) {
      const row = await devices.get(`id:${id}`, () => deps.repo.get(id));
      return row ? devicePolicy(row) : undefined;
    }
    for (const row of (await allowListed.get('all', () => deps.repo.listWithAllowedIps())) ?? []) {
      const policy = devicePolicy(row);
      if (policy.allowedIps.matches(session.remoteAddress)) return policy;
    }
    return undefined;
  }

  async function onMailFrom(from: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = stateOf(session);
    state.tx = undefined;
    const device = await deviceFor(session);
    if (!device?.enabled) {
      refusals.add(session.remoteAddress, 'unauthenticated');
      throw new RelayReply(
        530,
        `Authentication required: log in with the device's relay user name and password (AUTH after STARTTLS), or ask an admin to allow ${session.remoteAddress} for a device`,
      );
    }
    const entry = await deps.entry(device.entryId);
    if (!entry)
      throw await refuse(
        new RelayReply(
          451,
          `Device "${device.name}" has no usable email-server entry (deleted, or no default); an admin must bind it to one in the WebAdmin under Relay`,
        ),
        device.id,
      );
    const addresses = entryAddresses(entry.config);
    const senders = allowedSenders(device, addresses);
    const declared = Number((from.args || undefined)?.SIZE ?? 0);
    const limit = Math.min(device.maxMessageBytes ?? maxBytes, maxBytes);
    if (declared > limit) throw await refuse(tooLarge(declared, limit, device), device.id);
    if (device.fromPolicy === 'enforce' && !senders.allows(from.address))
      throw await refuse(
        new RelayReply(
          553,
          `Sender <${from.address}> is not allowed for device "${device.name}"; allowed: ${senders.list.join(', ')}. Send as one of these, or ask an admin to allow it or to set the device's From policy to "rewrite"`,
        ),
        device.id,
      );
    const usedToday = device.maxRecipientsPerDay ? await counters.recipientsToday(device.id) : 0;
    state.tx = {
      device,
      entryId: entry.id,
      mailbox: addresses.mailbox,
      senders,
      recipients: 0,
      usedToday,
      tooMany: false,
    };
  }

  async function onRcptTo(_to: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const tx = stateOf(session).tx;
    if (!tx) throw new RelayReply(503, 'Send MAIL FROM first');
    const { device } = tx;
    if (device.maxRecipientsPerMessage !== null && tx.recipients + 1 > device.maxRecipientsPerMessage) {
      // The whole message is refused at the end of DATA too: a partial delivery would surprise.
      tx.tooMany = true;
      throw await refuse(
        new RelayReply(
          550,
          `Too many recipients: device "${device.name}" may send to at most ${device.maxRecipientsPerMessage} per message; split the message or ask an admin to raise the limit`,
        ),
        device.id,
      );
    }
    if (device.maxRecipientsPerDay !== null && tx.usedToday + tx.recipients + 1 > device.maxRecipientsPerDay)
      throw await refuse(
        new RelayReply(
          452,
          `Daily recipient limit of ${device.maxRecipientsPerDay} reached for device "${device.name}"; it resets at 00:00 UTC (or ask an admin to raise it)`,
        ),
        device.id,
      );
    tx.recipients++;
  }

  function tooLarge(bytes: number, limit: number, device: DevicePolicy): RelayReply {
    return new RelayReply(
      552,
      `Message too large: ${bytes} bytes; the limit for device "${device.name}" is ${limit} bytes. Send a smaller message or attachment`,
    );
  }

  async function accept(raw: Buffer, session: SMTPServerSession, tx: Transaction): Promise<string> {
    const { device } = tx;
    if (tx.tooMany)
      throw await refuse(
        new RelayReply(
          554,
          `Not accepted: the message had more than ${device.maxRecipientsPerMessage} recipients, the limit of device "${device.name}"; split it`,
        ),
        device.id,
      );
    const limit = Math.min(device.maxMessageBytes ?? maxBytes, maxBytes);
    if (raw.length > limit) throw await refuse(tooLarge(raw.length, limit, device), device.id);
    const message = normalizeLineEndings(raw);
    const { fields } = readHeader(message);
    const fromHeader = headerValue(fields, 'from');
    const fromAddresses = fromHeader ? addressesOf(fromHeader) : [];
    const rewrite = device.fromPolicy === 'rewrite';
    if (!rewrite) {
      const outside = fromAddresses.find((a) => !tx.senders.allows(a));
      if (outside !== undefined || fromAddresses.length === 0)
        throw await refuse(
          new RelayReply(
            550,
            `${outside ? `From address <${outside}> is` : 'A message without a From address is'} not allowed for device "${device.name}"; allowed: ${tx.senders.list.join(', ')}. Change the From address on the device, or ask an admin to set its From policy to "rewrite"`,
          ),
          device.id,
        );
    }
    // RFC 5322 §3.6.4: fixed here, once, so every delivery attempt and the outbox carry the same id.
    // A Message-ID the device wrote is kept as written.
    const existingId = headerValue(fields, 'message-id');
    const domain = tx.mailbox.split('@')[1] ?? 'relay.invalid';
    const messageId = existingId ?? `<${randomBytes(16).toString('hex')}@${domain}>`;
    const edited = editHeader(message, fields, {
      ...(existingId ? {} : { messageId }),
      ...(rewrite ? { rewriteFrom: tx.mailbox } : {}),
    });
    const envelopeFrom = rewrite
      ? tx.mailbox
      : session.envelope.mailFrom
        ? session.envelope.mailFrom.address
        : '';
    const envelope = { from: envelopeFrom, to: session.envelope.rcptTo.map((r) => r.address) };
    let accepted: Awaited<ReturnType<OutboxSubmitter['submit']>>;
    try {
      accepted = await deps.submitter.submit({
        entryId: tx.entryId,
        source: { kind: 'relay', deviceId: device.id },
        content: { kind: 'raw', raw: edited, envelope },
        messageId,
      });
    } catch (error) {
      const reply = replyForSubmitError(error);
      deps.logger.warn('relay submission failed', {
        deviceId: device.id,
        reply: reply.responseCode,
        errorCode: (error as { code?: string }).code,
      });
      throw await refuse(reply, device.id);
    }
    counters.accepted(device.id, envelope.to.length);
    return `OK queued as ${accepted.id} ${accepted.messageId}`;
  }

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit nothing more is kept; smtp-server reads to the end and sets sizeExceeded.
        if (size <= maxBytes) chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => {
        const tx = stateOf(session).tx;
        if (!tx) return reject(new RelayReply(503, 'Send MAIL FROM first'));
        stateOf(session).tx = undefined;
        if (stream.sizeExceeded || size > maxBytes) {
          refuse(
            tooLarge(size, Math.min(tx.device.maxMessageBytes ?? maxBytes, maxBytes), tx.device),
            tx.device.id,
          ).then(reject, reject);
          return;
        }
        accept(Buffer.concat(chunks, size), session, tx).then(resolve, reject);
      });
    });
  }

  const servers = options.listeners.map((listener) => {
    const server = new SubmissionServer({
      name,
      banner: 'smtp-oauth relay',
      secure: listener.mode === 'tls',
      key: tls.key,
      cert: tls.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      // AUTH is checked at MAIL FROM instead, so allow-listed devices may send without it.
      authOptional: true,
      // smtp-server then offers AUTH before STARTTLS; onAuth refuses it for every non-loopback peer.
      allowInsecureAuth: insecureLoopback,
      size: maxBytes,
      // RFC 2034/3463 codes (`530 5.7.0`): devices and their logs show the class of the problem.
      hideENHANCEDSTATUSCODES: false,
      // No reverse DNS per connection: no traffic to resolvers, no wait on slow PTR answers.
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 5_000,
      onAuth(auth, session, callback) {
        onAuth(auth, session).then(
          (user) => callback(null, { user }),
          (error: Error) => callback(error),
        );
      },
      onMailFrom(address, session, callback) {
        onMailFrom(address, session).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
      onRcptTo(address, session, callback) {
        onRcptTo(address, session).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
      onData(stream, session, callback) {
        onData(stream, session).then(
          (reply) => callback(null, reply),
          (error: Error) => callback(error instanceof RelayReply ? error : replyForSubmitError(error)),
        );
      },
      onClose(session) {
        states.delete(session.id);
      },
    });
    // Replies are small writes answered by the client's next command: with Nagle's algorithm and
    // delayed ACKs each round trip of a session (greeting, EHLO, STARTTLS, AUTH, …) can wait ~40 ms.
    server.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    server.on('error', (error: Error & { code?: string }) => {
      deps.logger.warn('relay listener error', { port: listener.port, errorCode: error.code ?? error.name });
    });
    return { listener, server, port: listener.port, listening: false };
  });

  let closing: Promise<void> | undefined;
  const timer = setInterval(() => void refusals.flush(), options.refusalFlushMs ?? 60_000);
  timer.unref();

  return {
    async start() {
      for (const s of servers) {
        await new Promise<void>((resolve, reject) => {
          const onError = (error: Error & { code?: string }) => {
            reject(
              new Error(
                `relay: cannot listen on ${s.listener.host ?? '0.0.0.0'}:${s.listener.port} (${error.code ?? error.message})`,
                { cause: error },
              ),
            );
          };
          s.server.server.once('error', onError);
          s.server.listen(s.listener.port, s.listener.host ?? '0.0.0.0', () => {
            s.server.server.off('error', onError);
            s.port = (s.server.server.address() as AddressInfo).port;
            s.listening = true;
            resolve();
          });
        });
        deps.logger.info('relay listening', { port: s.port, mode: s.listener.mode });
      }
    },
    status() {
      return {
        listeners: servers.map((s) => ({
          mode: s.listener.mode,
          host: s.listener.host ?? '0.0.0.0',
          port: s.port,
          listening: s.listening,
        })),
        certificate: tls.info,
        maxMessageBytes: maxBytes,
        allowInsecureAuthOnLoopback: insecureLoopback,
      };
    },
    certificatePem: () => tls.cert,
    flushRefusals: () => refusals.flush(),
    flushCounters: () => counters.flush(),
    devicesChanged() {
      devices.clear();
      allowListed.clear();
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await Promise.all(
          servers.map(
            (s) =>
              new Promise<void>((resolve) => {
                if (!s.listening) return resolve();
                s.listening = false;
                s.server.close(() => resolve());
              }),
          ),
        );
        await refusals.flush();
        await counters.close();
      })();
      return closing;
    },
  };
}
