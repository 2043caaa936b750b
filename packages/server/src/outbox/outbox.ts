import { createHash, randomUUID } from 'node:crypto';
import type { MailMessage, RawMessage, SendResult } from '@org/core';
import { ApiError } from '../http/errors.js';
import type { Governor, Mailbox } from '../governor/types.js';
import type { Logger } from '../logger.js';
import { classifyFailure } from './classify.js';
import {
  type ConnectionSource,
  createLeasedConnections,
  type LeasedConnection,
} from './leased-connections.js';
import { type AttemptOutcome, type OutboxDriver, type OutboxRow, toOutboxMessage } from './driver.js';
import { groupCommits } from './group-commit.js';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule, retryDelayMs } from './schedule.js';
import type {
  OutboxAccepted,
  OutboxAttempt,
  OutboxCounts,
  OutboxListFilter,
  OutboxMessage,
  OutboxStatus,
  OutboxSubmission,
  OutboxSubmitter,
} from './types.js';

/** What the outbox delivers through: an entry's mailer (core's `send` / `sendRaw`). */
export interface OutboxMailer {
  send(message: MailMessage): Promise<SendResult>;
  sendRaw(message: RawMessage): Promise<SendResult>;
}

/** What delivers an entry's messages: its mailer, and the governed mailbox it sends as (if any). */
export interface DeliveryTarget {
  /** The entry's pooled mailer (ungoverned mailboxes). */
  mailer: OutboxMailer;
  /** Present when the governor keeps this mailbox's limits. */
  mailbox?: Mailbox;
  /** A governed mailbox's own connections, each held under a connection lease and reused. */
  connection?: ConnectionSource;
}

export interface OutboxOptions {
  driver: OutboxDriver;
  /**
   * The mailer of an entry, at delivery time.
   * @throws ApiError (entry deleted or not usable as stored: the message fails with that code)
   */
  mailerFor(entryId: string): Promise<DeliveryTarget>;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** This process's lease owner name. @default a random UUID */
  instanceId?: string;
  /** Retry schedule and maximum lifetime. @default {@link DEFAULT_RETRY_SCHEDULE} */
  schedule?: Partial<RetrySchedule>;
  /** Messages delivered at once by this instance (the governor limits per mailbox). @default 16 */
  concurrency?: number;
  /** A claim's lease; renewed every third of it while the send runs. @default 120000 */
  leaseMs?: number;
  /** How often due messages (retries, other instances' submissions) are looked for. @default 1000 */
  pollMs?: number;
  /** Finished messages (and their idempotency keys) are kept this long; at least 24 h. @default 7 days */
  retentionMs?: number;
  /**
   * SQLite: every row in flight under another owner belongs to a dead process (one instance per
   * file), so it is reclaimed at start instead of after its lease. @default false
   */
  reclaimOthersAtStart?: boolean;
  /** Per-mailbox admission: connections, per-minute and per-day windows. @default none */
  governor?: Governor;
  /**
   * A governed mailbox's idle SMTP connection is closed, and its connection lease given back, after
   * this long without a message (ms). @default 1500
   */
  connectionIdleMs?: number;
  /** Observes every attempt (metrics). */
  onAttempt?: (
    entryId: string | null,
    outcome: AttemptOutcome['attempt']['outcome'],
    code: string | null,
  ) => void;
}

const FINAL: ReadonlySet<OutboxStatus> = new Set(['sent', 'failed', 'unknown', 'cancelled']);
const MIN_RETENTION_MS = 86_400_000;

function recipientsOf(message: MailMessage): number {
  const n = (v: unknown) => (Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1);
  return n(message.to) + n(message.cc) + n(message.bcc);
}

export function outboxUnavailable(cause: unknown): ApiError {
  return new ApiError(503, 'OUTBOX_UNAVAILABLE', 'The database cannot be reached; nothing was stored', {
    hint: 'Retry after the time in Retry-After; the request was not accepted',
    headers: { 'Retry-After': '5' },
    transient: true,
    cause,
  });
}

export const shuttingDown = () =>
  new ApiError(503, 'SHUTTING_DOWN', 'The server is shutting down and accepts no new messages', {
    hint: 'Retry after the time in Retry-After (another instance, or this one after its restart)',
    headers: { 'Retry-After': '5' },
    transient: true,
  });

/**
 * The durable outbox: accepts messages (a row committed before the answer), delivers them through
 * the entry's mailer with leases, retries transient failures on a schedule, and records every
 * attempt. Storage-agnostic: the driver (SQLite or PostgreSQL) holds every state.
 */
export function createOutbox(options: OutboxOptions) {
  const { logger } = options;
  const driver = groupCommits(options.driver);
  const now = options.now ?? (() => new Date());
  const owner = options.instanceId ?? randomUUID();
  const schedule: RetrySchedule = { ...DEFAULT_RETRY_SCHEDULE, ...options.schedule };
  const concurrency = options.concurrency ?? 16;
  const leaseMs = options.leaseMs ?? 120_000;
  const pollMs = options.pollMs ?? 1000;
  const retentionMs = Math.max(options.retentionMs ?? 7 * MIN_RETENTION_MS, MIN_RETENTION_MS);

  const inFlight = new Map<string, Promise<void>>();
  const waiters = new Map<string, Set<() => void>>();
  let state: 'idle' | 'running' | 'draining' | 'stopped' = 'idle';
  let pumping = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let lastHeartbeat = 0;
  let lastReclaim = 0;
  let lastPurge = 0;
  /** Entries whose mailbox has no room until this time (ms): not claimed before. */
  const blocked = new Map<string, number>();
  /** Entries blocked because every connection of their mailbox (key) was taken: freed when one idles. */
  const awaitingConnection = new Map<string, Set<string>>();
  const connections = options.governor
    ? createLeasedConnections({
        governor: options.governor,
        ...(options.connectionIdleMs !== undefined ? { idleMs: options.connectionIdleMs } : {}),
        onIdle(mailboxKey) {
          for (const entry of awaitingConnection.get(mailboxKey) ?? []) blocked.delete(entry);
          awaitingConnection.delete(mailboxKey);
        },
      })
    : undefined;
  const saturated = (): string[] => {
    const t = now().getTime();
    for (const [entry, until] of blocked) if (until <= t) blocked.delete(entry);
    return [...blocked.keys()];
  };
  /** The last claim failed because the database is unreachable (readiness). */
  let claimError: unknown;

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (driver.dialect.isUnavailable(error)) throw outboxUnavailable(error);
      throw error;
    }
  };

  function notify(id: string): void {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const w of set) w();
  }

  async function record(row: OutboxRow, outcome: AttemptOutcome): Promise<void> {
    // The attempt happened; losing its record would make a delivered message look unknown.
    for (let i = 0; ; i++) {
      try {
        await driver.finish(row.id, owner, outcome, now());
        break;
      } catch (error) {
        if (i >= 6 || !driver.dialect.isUnavailable(error)) {
          logger.error('outbox: attempt not recorded', {
            id: row.id,
            errorCode: (error as { code?: unknown }).code,
          });
          break;
        }
        await new Promise((r) => setTimeout(r, 250 * 2 ** i));
      }
    }
    options.onAttempt?.(row.entry_id, outcome.attempt.outcome, outcome.attempt.code);
    notify(row.id);
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const startedAt = now();
    const started = Date.now();
    let leased: LeasedConnection | undefined;
    let mailbox: Mailbox | undefined;
    let transmitted = false;
    try {
      if (!row.entry_id)
        throw new ApiError(409, 'EMAIL_SERVER_NOT_FOUND', 'The message has no email-server entry');
      const target = await options.mailerFor(row.entry_id);
      let mailer = target.mailer;
      mailbox = target.mailbox;
      if (mailbox && options.governor && connections && target.connection) {
        // A connection first (an idle one of the entry, or a new lease), then the message's place
        // in the windows; a refusal of either leaves the row queued and the entry unclaimed until then.
        const taken = await connections.acquire(mailbox, target.connection);
        const admission = taken.admitted
          ? await options.governor.admit(mailbox, Number(row.recipient_count))
          : taken;
        if (taken.admitted) leased = taken.connection;
        if (!admission.admitted) {
          blocked.set(row.entry_id, admission.retryAt);
          if (admission.reason === 'connections') {
            const waiting = awaitingConnection.get(mailbox.key) ?? new Set();
            awaitingConnection.set(mailbox.key, waiting.add(row.entry_id));
          }
          // Due again when the mailbox has room (pg-boss: the job's startAfter), so it does not spin.
          await driver.release(row.id, owner, now(), new Date(admission.retryAt));
          return;
        }
        mailer = leased ?? mailer;
      }
      if (state !== 'running' || !(await driver.markTransmitting(row.id, owner))) {
        await driver.release(row.id, owner, now());
        return;
      }
      transmitted = true;
      const result =
        row.content_kind === 'raw'
          ? await mailer.sendRaw({
              raw: Buffer.from(row.content ?? '', 'base64'),
              envelope: JSON.parse(row.envelope_json ?? '{}') as RawMessage['envelope'],
              messageId: row.message_id,
            })
          : await mailer.send(JSON.parse(row.content ?? '{}') as MailMessage);
      await record(row, {
        status: 'sent',
        code: null,
        hint: null,
        reply: result.response.slice(0, 1000),
        accepted: result.accepted,
        rejected: result.rejected,
        attempt: {
          at: startedAt.toISOString(),
          outcome: 'sent',
          code: null,
          reply: result.response.slice(0, 1000),
          durationMs: Date.now() - started,
        },
      });
    } catch (error) {
      if (!transmitted && error instanceof ApiError && error.code === 'SHUTTING_DOWN') {
        await driver.release(row.id, owner, now()).catch(() => {});
        return;
      }
      const failure = classifyFailure(error);
      if (failure.code === 'SMTP_CONCURRENCY_LIMIT' && mailbox) connections?.throttled(mailbox);
      const attemptNo = Number(row.attempts) + 1;
      let status: OutboxStatus =
        failure.kind === 'transient' ? 'queued' : failure.kind === 'unknown' ? 'unknown' : 'failed';
      let nextAttemptAt: string | undefined;
      let hint = failure.hint;
      if (status === 'queued') {
        const next = now().getTime() + retryDelayMs(schedule, attemptNo, failure.retryAfterMs);
        if (next > Date.parse(row.expires_at)) {
          status = 'failed';
          hint = `Gave up: still failing after its maximum lifetime. ${failure.hint ?? ''}`.trim();
        } else nextAttemptAt = new Date(next).toISOString();
      }
      await record(row, {
        status,
        ...(nextAttemptAt ? { nextAttemptAt } : {}),
        code: failure.code,
        hint,
        reply: failure.reply,
        attempt: {
          at: startedAt.toISOString(),
          outcome: failure.kind,
          code: failure.code,
          reply: failure.reply,
          durationMs: Date.now() - started,
        },
      });
    } finally {
      leased?.giveBack();
    }
  }

  async function housekeeping(): Promise<void> {
    const t = Date.now();
    if (t - lastHeartbeat >= leaseMs / 3 && inFlight.size > 0) {
      lastHeartbeat = t;
      await driver.renewLeases(owner, new Date(now().getTime() + leaseMs));
    }
    if (t - lastReclaim >= Math.min(leaseMs / 4, 15_000)) {
      lastReclaim = t;
      const r = await driver.reclaim({ now: now() });
      if (r.requeued + r.unknown > 0) logger.warn('outbox: expired leases reclaimed', r);
    }
    if (t - lastPurge >= 3_600_000) {
      lastPurge = t;
      await driver.purge(new Date(now().getTime() - retentionMs));
    }
  }

  async function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        while (state === 'running' && inFlight.size < concurrency) {
          const rows = await driver.claim({
            owner,
            now: now(),
            leaseMs,
            limit: concurrency - inFlight.size,
            excludeEntries: saturated(),
          });
          claimError = undefined;
          if (rows.length === 0) break;
          for (const row of rows) {
            const p = deliver(row)
              .catch((error: unknown) =>
                logger.error('outbox: delivery crashed', { id: row.id, error: (error as Error)?.name }),
              )
              .finally(() => {
                inFlight.delete(row.id);
                if (state === 'running') void pump();
              });
            inFlight.set(row.id, p);
          }
        }
      } while (again && state === 'running');
    } catch (error) {
      claimError = error;
      logger.warn('outbox: claim failed', { errorCode: (error as { code?: unknown }).code });
    } finally {
      pumping = false;
    }
  }

  async function tick(): Promise<void> {
    try {
      await housekeeping();
    } catch (error) {
      logger.warn('outbox: housekeeping failed', { errorCode: (error as { code?: unknown }).code });
    }
    await pump();
  }

  const outbox = {
    instanceId: owner,

    /** Stores a message; resolves after the commit. @throws ApiError OUTBOX_UNAVAILABLE (503), SHUTTING_DOWN (503), IDEMPOTENCY_KEY_REUSED (422) */
    async submit(s: OutboxSubmission): Promise<OutboxAccepted> {
      if (state === 'draining' || state === 'stopped') throw shuttingDown();
      const at = now();
      const iso = at.toISOString();
      const content =
        s.content.kind === 'message'
          ? JSON.stringify({ ...s.content.message, messageId: s.messageId })
          : Buffer.from(s.content.raw).toString('base64');
      const envelope = s.content.kind === 'raw' ? JSON.stringify(s.content.envelope) : null;
      const sourceId =
        s.source.kind === 'api'
          ? s.source.apiKeyId
          : s.source.kind === 'relay'
            ? s.source.deviceId
            : s.source.adminId;
      const payloadHash = s.idempotencyKey
        ? createHash('sha256')
            .update(`${s.entryId}\n${s.content.kind}\n${envelope ?? ''}\n`)
            .update(s.content.kind === 'message' ? JSON.stringify(s.content.message) : content)
            .digest('base64url')
        : null;
      const { row, duplicate } = await guard(() =>
        driver.insert(
          {
            created_at: iso,
            updated_at: iso,
            entry_id: s.entryId,
            source_kind: s.source.kind,
            source_id: sourceId,
            idempotency_key: s.idempotencyKey ?? null,
            payload_hash: payloadHash,
            message_id: s.messageId,
            content_kind: s.content.kind,
            content,
            envelope_json: envelope,
            recipient_count:
              s.content.kind === 'message' ? recipientsOf(s.content.message) : s.content.envelope.to.length,
            status: 'queued',
            attempts: 0,
            next_attempt_at: iso,
            expires_at: new Date(at.getTime() + schedule.maxLifetimeMs).toISOString(),
            lease_owner: null,
            lease_expires_at: null,
            transmitting: 0,
            last_code: null,
            last_hint: null,
            last_reply: null,
            accepted_json: null,
            rejected_json: null,
            finished_at: null,
          },
          at,
        ),
      );
      if (duplicate && row.payload_hash !== payloadHash)
        throw new ApiError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used for a different message',
          {
            hint: 'Use a new Idempotency-Key for a new message; repeat a request only with the same body',
            details: { id: row.id },
          },
        );
      if (!duplicate && state === 'running') void pump();
      return { id: row.id, messageId: row.message_id, status: row.status as OutboxStatus, duplicate };
    },

    /** A message's state and every attempt, oldest first. */
    async get(id: string): Promise<{ message: OutboxMessage; attempts: OutboxAttempt[] } | undefined> {
      return guard(async () => {
        const row = await driver.getRow(id);
        if (!row) return undefined;
        return { message: toOutboxMessage(row), attempts: await driver.attempts(id) };
      });
    },

    async list(filter: OutboxListFilter): Promise<OutboxMessage[]> {
      return guard(async () => (await driver.list(filter)).map(toOutboxMessage));
    },

    counts(): Promise<OutboxCounts> {
      return guard(() => driver.counts());
    },

    oldestQueued(): Promise<string | undefined> {
      return guard(() => driver.oldestQueued());
    },

    /** queued → cancelled. @returns false when the message is not queued (in flight or finished). */
    async cancel(id: string): Promise<boolean> {
      const ok = await guard(() => driver.cancel(id, now()));
      if (ok) notify(id);
      return ok;
    },

    /** An operator's re-send (failed, unknown or cancelled → queued), with the same Message-ID. */
    async retry(id: string): Promise<boolean> {
      const at = now();
      const ok = await guard(() => driver.requeue(id, at, new Date(at.getTime() + schedule.maxLifetimeMs)));
      if (ok && state === 'running') void pump();
      return ok;
    },

    /**
     * Waits up to `ms` for the message to reach a final state; resolves with the row either way
     * (still queued or sending when the wait ran out). Another instance's delivery is seen by polling.
     */
    async waitFor(id: string, ms: number): Promise<OutboxRow | undefined> {
      const deadline = Date.now() + ms;
      for (;;) {
        // Listen before reading: a delivery that finishes between the read and the wait still wakes us.
        let done: () => void = () => {};
        const woken = new Promise<void>((resolve) => {
          done = resolve;
        });
        const set = waiters.get(id) ?? new Set();
        waiters.set(id, set);
        set.add(done);
        try {
          const row = await guard(() => driver.getRow(id));
          if (!row || FINAL.has(row.status as OutboxStatus)) return row;
          // Shutting down: answer now (202, still queued) instead of holding the connection open.
          if (state === 'draining' || state === 'stopped') return row;
          const left = deadline - Date.now();
          if (left <= 0) return row;
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            woken,
            new Promise<void>((resolve) => {
              // Polls too: another instance's delivery is not notified here.
              timer = setTimeout(resolve, Math.min(left, 500));
            }),
          ]);
          clearTimeout(timer);
        } finally {
          set.delete(done);
          if (set.size === 0 && waiters.get(id) === set) waiters.delete(id);
        }
      }
    },

    /** Starts delivering: reclaims (SQLite: at once), then claims due messages every `pollMs`. */
    async start(): Promise<void> {
      if (state !== 'idle') return;
      if (options.reclaimOthersAtStart) {
        const r = await driver.reclaim({ now: now(), notOwnedBy: owner });
        if (r.requeued + r.unknown > 0) logger.warn('outbox: messages of a stopped process reclaimed', r);
      }
      state = 'running';
      timer = setInterval(() => void tick(), pollMs);
      timer.unref();
      void tick();
    },

    /**
     * Graceful stop: claims nothing more, lets sends in flight finish within `deadlineMs`; the rest
     * stays queued (rows still in flight after the deadline keep their lease, reclaimed later).
     */
    async stop(deadlineMs = 10_000): Promise<void> {
      if (state === 'stopped') return;
      state = 'draining';
      for (const id of [...waiters.keys()]) notify(id);
      if (timer) clearInterval(timer);
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise<void>((r) => {
          t = setTimeout(r, deadlineMs);
        }),
      ]);
      clearTimeout(t);
      state = 'stopped';
      // Open connections close and their leases go back (another instance may take them now).
      await connections?.closeAll();
    },

    /** For readiness and metrics. */
    status() {
      return {
        state,
        inFlight: inFlight.size,
        claimable: state === 'running' && claimError === undefined,
      };
    },
  };
  return outbox satisfies OutboxSubmitter;
}

export type Outbox = ReturnType<typeof createOutbox>;
