import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, type Selectable, SqliteAdapter, sql } from 'kysely';
import type { Logger } from '../logger.js';
import type { KeyRing } from '../secrets/keyring.js';
import { createSortableIds } from '../store/ids.js';
import type { Database, WebhookDeliveriesTable } from '../store/schema.js';
import { messageEvent, type WebhookEvent } from './events.js';
import { openWebhookSecret, signatureHeaders } from './secret.js';
import {
  checkWebhookTarget,
  postToTarget,
  WebhookDeliveryError,
  type WebhookTargetPolicy,
} from './target.js';

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

/** What a delivery ended as (also the key's "last delivery" in the WebAdmin). */
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed' | 'dropped';

/**
 * Waits between attempts of one event: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h — eight attempts
 * over about 3 h 45 min, then the event is given up (`failed`). The shape follows the Standard
 * Webhooks guidance (exponential backoff, hours not days, for a receiver's short outage).
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000,
];

export interface WebhookDispatcherOptions {
  db: Kysely<Database>;
  /** The live key ring (secrets are opened at delivery time, so a rotated key is used at once). */
  keyRing: () => KeyRing;
  policy: WebhookTargetPolicy;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** This process's lease owner name. @default a random UUID */
  instanceId?: string;
  /** One request's limit, connect to answer. @default 10000 */
  timeoutMs?: number;
  /** Waits before the 2nd, 3rd, … attempt; after the last, the event is failed. @default {@link DEFAULT_WEBHOOK_RETRY_DELAYS_MS} */
  retryDelaysMs?: readonly number[];
  /** How often due deliveries are looked for. @default 1000 */
  pollMs?: number;
  /** Deliveries in flight at once in this instance. @default 4 */
  concurrency?: number;
  /** Finished deliveries are kept this long. @default 7 days */
  retentionMs?: number;
  /**
   * SQLite: a delivery in flight under another owner belongs to a dead process (one instance per
   * file), so it is due again at start instead of after its lease. @default false
   */
  reclaimOthersAtStart?: boolean;
}

const USER_AGENT = 'smtp-oauth-server-webhooks/1';

/**
 * Durable webhook delivery. Events are rows of `webhook_deliveries`, written by
 * {@link WebhookDispatcher.enqueueFinal} inside the transaction that gives an outbox message its
 * final state; this loop claims due rows under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
 * instances never post the same event at the same time), signs and posts them, and retries with
 * backoff. A lease that expires mid-post (the instance died) makes the event due again: delivery
 * is at least once, and the unchanged `webhook-id` lets a receiver drop a repeat.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const { db, logger, policy } = options;
  const now = options.now ?? (() => new Date());
  const owner = options.instanceId ?? randomUUID();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const delays = options.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
  const pollMs = options.pollMs ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;
  // A lease outlives the request's own timeout, so only a dead instance loses one.
  const leaseMs = timeoutMs + 30_000;
  const claimLock: RawBuilder<unknown> =
    db.getExecutor().adapter instanceof SqliteAdapter ? sql`` : sql`FOR UPDATE SKIP LOCKED`;
  const nextId = createSortableIds();
  const eventId = (at: Date) => `evt_${nextId(at)}`;

  const inFlight = new Map<string, Promise<void>>();
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let timer: NodeJS.Timeout | undefined;
  let pumping = false;
  let again = false;
  let lastPurge = 0;

  async function claim(limit: number): Promise<WebhookDeliveryRow[]> {
    const at = now();
    const iso = at.toISOString();
    const until = new Date(at.getTime() + leaseMs).toISOString();
    const r = await sql<WebhookDeliveryRow>`
      UPDATE webhook_deliveries
         SET status = 'delivering', lease_owner = ${owner}, lease_expires_at = ${until},
             attempts = attempts + 1
       WHERE id IN (SELECT id FROM webhook_deliveries
                     WHERE (status = 'pending' AND next_attempt_at <= ${iso})
                        OR (status = 'delivering' AND lease_expires_at < ${iso})
                     ORDER BY next_attempt_at, id LIMIT ${limit}
                     ${claimLock})
      RETURNING *`.execute(db);
    return r.rows;
  }

  /** Ends one attempt (only while this instance still holds the lease) and notes it on the key. */
  async function settle(
    row: WebhookDeliveryRow,
    outcome: WebhookOutcome,
    fields: { httpStatus?: number | undefined; error?: string | undefined; nextAttemptAt?: string },
  ): Promise<void> {
    const iso = now().toISOString();
    const final = outcome !== 'retrying';
    await db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('webhook_deliveries')
        .set({
          status: outcome === 'retrying' ? 'pending' : outcome,
          lease_owner: null,
          lease_expires_at: null,
          last_http_status: fields.httpStatus ?? null,
          last_error: fields.error ?? null,
          ...(fields.nextAttemptAt ? { next_attempt_at: fields.nextAttemptAt } : {}),
          finished_at: final ? iso : null,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'delivering')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1 || outcome === 'dropped') return;
      await trx
        .updateTable('api_keys')
        .set({
          webhook_last_at: iso,
          webhook_last_outcome: outcome,
          webhook_last_http_status: fields.httpStatus ?? null,
          webhook_last_error: fields.error ?? null,
          webhook_last_event_id: row.id,
        })
        .where('id', '=', row.api_key_id)
        .execute();
    });
  }

  async function deliver(row: WebhookDeliveryRow): Promise<void> {
    const key = await db
      .selectFrom('api_keys')
      .select(['webhook_url', 'webhook_secret', 'revoked_at'])
      .where('id', '=', row.api_key_id)
      .executeTakeFirst();
    // The webhook was removed (or the key revoked) since the event was queued: nobody to tell.
    if (!key?.webhook_url || !key.webhook_secret || key.revoked_at) {
      await settle(row, 'dropped', { error: 'WEBHOOK_REMOVED' });
      return;
    }
    const attempt = Number(row.attempts);
    // The admin's test event is tried once: the admin sees the answer and clicks again.
    const retries = row.event_type === 'webhook.test' ? 0 : delays.length;
    try {
      const target = await checkWebhookTarget(key.webhook_url, 'webhookUrl', policy);
      const secret = openWebhookSecret(options.keyRing(), row.api_key_id, key.webhook_secret);
      const headers = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...signatureHeaders(secret, row.id, now(), row.payload),
      };
      const status = await postToTarget(target, headers, row.payload, timeoutMs);
      await settle(row, 'delivered', { httpStatus: status });
      logger.info('webhook delivered', {
        eventId: row.id,
        apiKeyId: row.api_key_id,
        attempt,
        httpStatus: status,
      });
    } catch (error) {
      const code = String((error as { code?: unknown })?.code ?? 'WEBHOOK_DELIVERY_FAILED');
      const httpStatus = error instanceof WebhookDeliveryError ? error.httpStatus : undefined;
      // A target refused by the guard stays refused until an admin changes the URL or the operator
      // the policy: no point in retrying for hours.
      const permanent = code === 'WEBHOOK_URL_NOT_ALLOWED' || code === 'WEBHOOK_URL_INVALID';
      const delay = delays[attempt - 1];
      if (!permanent && attempt <= retries && delay !== undefined) {
        const jittered = delay + Math.floor(Math.random() * delay * 0.1);
        const nextAttemptAt = new Date(now().getTime() + jittered).toISOString();
        await settle(row, 'retrying', { httpStatus, error: code, nextAttemptAt });
        logger.warn('webhook delivery failed; will retry', {
          eventId: row.id,
          apiKeyId: row.api_key_id,
          attempt,
          errorCode: code,
          httpStatus,
          nextAttemptAt,
        });
      } else {
        await settle(row, 'failed', { httpStatus, error: code });
        logger.warn('webhook delivery given up', {
          eventId: row.id,
          apiKeyId: row.api_key_id,
          attempt,
          errorCode: code,
          httpStatus,
        });
      }
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
          const rows = await claim(concurrency - inFlight.size);
          if (rows.length === 0) break;
          for (const row of rows) {
            const p = deliver(row)
              .catch((error: unknown) =>
                logger.error('webhook delivery crashed', {
                  eventId: row.id,
                  errorCode: (error as { code?: unknown })?.code,
                }),
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
      logger.warn('webhook claim failed', { errorCode: (error as { code?: unknown })?.code });
    } finally {
      pumping = false;
    }
  }

  async function tick(): Promise<void> {
    const t = Date.now();
    if (t - lastPurge >= 3_600_000) {
      lastPurge = t;
      try {
        await db
          .deleteFrom('webhook_deliveries')
          .where('status', 'in', ['delivered', 'failed', 'dropped'])
          .where('finished_at', '<', new Date(now().getTime() - retentionMs).toISOString())
          .execute();
      } catch (error) {
        logger.warn('webhook purge failed', { errorCode: (error as { code?: unknown })?.code });
      }
    }
    await pump();
  }

  function insertRow(
    trx: Kysely<Database>,
    apiKeyId: string,
    outboxId: string | null,
    event: WebhookEvent,
    at: Date,
  ) {
    const iso = at.toISOString();
    const id = eventId(at);
    return trx
      .insertInto('webhook_deliveries')
      .values({
        id,
        api_key_id: apiKeyId,
        outbox_id: outboxId,
        event_type: event.type,
        payload: JSON.stringify(event),
        created_at: iso,
        status: 'pending',
        attempts: 0,
        next_attempt_at: iso,
        lease_owner: null,
        lease_expires_at: null,
        last_http_status: null,
        last_error: null,
        finished_at: null,
      })
      .execute()
      .then(() => id);
  }

  return {
    instanceId: owner,
    /** One request's limit (ms). */
    timeoutMs,

    /**
     * Queues the events of outbox messages that just reached a final state, inside the caller's
     * transaction (the outbox driver's `onFinal`): messages submitted with an API key that has a
     * webhook get one event each; others nothing. Commits or rolls back with the state change.
     */
    async enqueueFinal(trx: Kysely<Database>, ids: readonly string[], at: Date): Promise<void> {
      if (ids.length === 0) return;
      const rows = await trx
        .selectFrom('outbox_messages as m')
        .innerJoin('api_keys as k', 'k.id', 'm.source_id')
        .selectAll('m')
        .where('m.id', 'in', [...ids])
        .where('m.source_kind', '=', 'api')
        .where('k.webhook_url', 'is not', null)
        .where('k.revoked_at', 'is', null)
        .execute();
      let queued = 0;
      for (const row of rows) {
        const event = messageEvent(row, at);
        if (!event || !row.source_id) continue;
        await insertRow(trx, row.source_id, row.id, event, at);
        queued++;
      }
      if (queued > 0 && state === 'running') setImmediate(() => void pump());
    },

    /** Queues a `webhook.test` event for a key (tried once) and returns its id. */
    async enqueueTest(apiKeyId: string): Promise<string> {
      const at = now();
      const id = await insertRow(
        db,
        apiKeyId,
        null,
        {
          type: 'webhook.test',
          timestamp: at.toISOString(),
          data: { apiKeyId, note: 'A test event sent from the WebAdmin; no message was sent.' },
        },
        at,
      );
      if (state === 'running') void pump();
      return id;
    },

    getDelivery(id: string): Promise<WebhookDeliveryRow | undefined> {
      return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Deliveries of one key, newest first. */
    listDeliveries(apiKeyId: string, limit = 20): Promise<WebhookDeliveryRow[]> {
      return db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('api_key_id', '=', apiKeyId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },

    /** Looks for due deliveries now (after an event was queued elsewhere). */
    kick(): void {
      if (state === 'running') void pump();
    },

    async start(): Promise<void> {
      if (state !== 'idle') return;
      if (options.reclaimOthersAtStart) {
        const r = await db
          .updateTable('webhook_deliveries')
          .set({ status: 'pending', lease_owner: null, lease_expires_at: null })
          .where('status', '=', 'delivering')
          .where((eb) => eb.or([eb('lease_owner', '!=', owner), eb('lease_owner', 'is', null)]))
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) > 0)
          logger.warn('webhook deliveries of a stopped process are due again', {
            count: Number(r.numUpdatedRows),
          });
      }
      state = 'running';
      timer = setInterval(() => void tick(), pollMs);
      timer.unref();
      void tick();
    },

    /** Claims nothing more; posts in flight get `deadlineMs` (their lease makes the rest due again later). */
    async stop(deadlineMs = 5000): Promise<void> {
      if (state === 'stopped') return;
      state = 'stopped';
      if (timer) clearInterval(timer);
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise<void>((r) => {
          t = setTimeout(r, deadlineMs);
        }),
      ]);
      clearTimeout(t);
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
