import type { ConnectionLease, Governor, Mailbox, Refusal } from '../governor/types.js';
import type { OutboxMailer } from './outbox.js';

/** A mailer of one SMTP connection, open until closed (the server's `EntryRuntime.single`). */
export interface ConnectionMailer extends OutboxMailer {
  close(): Promise<void>;
}

/** Where a governed entry's connections come from. */
export interface ConnectionSource {
  /** The entry the connections belong to. */
  entryId: string;
  /**
   * The entry's runtime (config version and checked address): a connection is reused only by the
   * same key; one of an older key of the entry is closed (the config changed, or the address did).
   */
  key: string;
  /** Opens a one-connection mailer (it connects, with EHLO and AUTH, on its first send). */
  open(): Promise<ConnectionMailer>;
}

/** A connection taken for one message: send through it, then give it back. */
export interface LeasedConnection extends OutboxMailer {
  /** Back to idle (reused by the next message of its entry), or closed when it is surplus or stale. */
  giveBack(): void;
}

export interface LeasedConnectionsOptions {
  governor: Governor;
  /**
   * An idle connection is closed, and its lease given back, after this long without a message:
   * long enough to carry a burst from one message to the next, short enough not to hold one of the
   * mailbox's few places while nothing is sent. @default 1500
   */
  idleMs?: number;
  /** A connection of `mailboxKey` became idle: messages waiting for a connection may try again. */
  onIdle?: (mailboxKey: string) => void;
}

interface Connection {
  mailbox: Mailbox;
  entryId: string;
  source: string;
  lease: ConnectionLease;
  open: () => Promise<ConnectionMailer>;
  mailer: Promise<ConnectionMailer> | undefined;
  busy: boolean;
  /** Its entry moved on to a newer runtime: closed when next idle. */
  stale: boolean;
  idle: NodeJS.Timeout | undefined;
}

/**
 * A governed mailbox's SMTP connections, each held under one connection lease of the governor for
 * as long as it is open, and reused message after message: one TCP+TLS+EHLO+AUTH per connection,
 * not per message. A message takes an idle connection of its entry when there is one; a new one
 * opens only when none is idle and the governor grants a lease. Idle connections close after
 * `idleMs`, when their entry's runtime changes, when the governor's share of the mailbox shrinks
 * (a 432), and at {@link closeAll}.
 */
export function createLeasedConnections(options: LeasedConnectionsOptions) {
  const { governor } = options;
  const idleMs = options.idleMs ?? 1500;
  const byMailbox = new Map<string, Set<Connection>>();
  const closing = new Set<Promise<void>>();
  /** Connections of a mailbox (key) closing now: their places come back when this reaches 0. */
  const releasing = new Map<string, number>();

  function close(c: Connection): Promise<void> | undefined {
    const set = byMailbox.get(c.mailbox.key);
    if (!set?.delete(c)) return undefined;
    if (set.size === 0) byMailbox.delete(c.mailbox.key);
    clearTimeout(c.idle);
    const key = c.mailbox.key;
    releasing.set(key, (releasing.get(key) ?? 0) + 1);
    const done = (async () => {
      // core's close lets a send in progress finish; the lease outlives the connection.
      await c.mailer?.then((m) => m.close()).catch(() => {});
      await c.lease.release();
    })();
    closing.add(done);
    void done.finally(() => {
      closing.delete(done);
      const left = (releasing.get(key) ?? 1) - 1;
      if (left > 0) releasing.set(key, left);
      else releasing.delete(key);
    });
    return done;
  }

  /** Closes idle connections of the mailbox beyond the governor's share (after a 432). */
  function trim(mailbox: Mailbox): void {
    const set = byMailbox.get(mailbox.key);
    if (!set) return;
    let surplus = set.size - governor.share(mailbox);
    for (const c of [...set]) {
      if (surplus <= 0) break;
      if (!c.busy) {
        close(c);
        surplus--;
      }
    }
  }

  function leased(c: Connection): LeasedConnection {
    const mailer = () => {
      // A mailer that could not be built (bad options) is built again for the next message.
      c.mailer ??= c.open().catch((error: unknown) => {
        c.mailer = undefined;
        throw error;
      });
      return c.mailer;
    };
    let given = false;
    return {
      send: async (message) => (await mailer()).send(message),
      sendRaw: async (message) => (await mailer()).sendRaw(message),
      giveBack() {
        if (given) return;
        given = true;
        c.busy = false;
        const set = byMailbox.get(c.mailbox.key);
        if (!set?.has(c)) return;
        if (c.stale || !c.lease.held || set.size > governor.share(c.mailbox)) {
          close(c);
          return;
        }
        c.idle = setTimeout(() => close(c), idleMs);
        c.idle.unref();
        options.onIdle?.(c.mailbox.key);
      },
    };
  }

  return {
    /**
     * A connection of `source` for one message to `mailbox`: an idle one, or a new one under a new
     * lease. Refused (`connections`, `backoff`) when none is idle and the governor grants none.
     * @throws the governor's store errors (database unreachable)
     */
    async acquire(
      mailbox: Mailbox,
      source: ConnectionSource,
    ): Promise<{ admitted: true; connection: LeasedConnection } | Refusal> {
      let set = byMailbox.get(mailbox.key);
      for (const c of set ?? []) {
        // The entry's config or checked address changed: its older connections go.
        if (c.entryId === source.entryId && c.source !== source.key) {
          c.stale = true;
          if (!c.busy) close(c);
        }
      }
      for (const c of byMailbox.get(mailbox.key) ?? []) {
        if (c.busy || c.source !== source.key) continue;
        if (!c.lease.held) {
          close(c);
          continue;
        }
        clearTimeout(c.idle);
        c.busy = true;
        return { admitted: true, connection: leased(c) };
      }
      const answer = await governor.lease(mailbox);
      if (!answer.admitted) {
        // Another entry of the same mailbox sits on an idle connection: close it to make room
        // (one at a time: while a place is coming back, asking again closes nothing more).
        if (answer.reason === 'connections' && !releasing.has(mailbox.key))
          for (const c of byMailbox.get(mailbox.key) ?? [])
            if (!c.busy && c.source !== source.key) {
              close(c);
              break;
            }
        return answer;
      }
      const c: Connection = {
        mailbox,
        entryId: source.entryId,
        source: source.key,
        lease: answer.lease,
        open: source.open,
        mailer: undefined,
        busy: true,
        stale: false,
        idle: undefined,
      };
      set = byMailbox.get(mailbox.key) ?? new Set();
      byMailbox.set(mailbox.key, set);
      set.add(c);
      return { admitted: true, connection: leased(c) };
    },

    /** A 432 arrived: the governor backs off and shrinks the share; surplus idle connections close. */
    throttled(mailbox: Mailbox): void {
      governor.throttled(mailbox);
      trim(mailbox);
    },

    /** Open connections per mailbox key (busy and idle). */
    open(): Record<string, number> {
      return Object.fromEntries([...byMailbox].map(([key, set]) => [key, set.size]));
    },

    /** Closes every connection and gives its lease back (shutdown); sends in progress finish first. */
    /**
     * Closes every connection. Waits for the idle ones only: a connection still sending after the
     * outbox's drain deadline closes when its send ends — or when its owner cuts it (shutdown with
     * force) — and its lease goes back then (or lapses), so a hung SMTP server cannot hold a stop.
     */
    async closeAll(): Promise<void> {
      const idle: Promise<void>[] = [];
      for (const set of [...byMailbox.values()])
        for (const c of [...set]) {
          const busy = c.busy;
          const done = close(c);
          if (done && !busy) idle.push(done);
        }
      await Promise.allSettled(idle);
    },
  };
}

export type LeasedConnections = ReturnType<typeof createLeasedConnections>;
