import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from './schema.js';

/** A relay device as stored (see migration 0004-relay). Booleans are 0/1, lists are JSON text. */
export interface RelayDevicesTable {
  id: string;
  name: string;
  /** The AUTH PLAIN/LOGIN user name, unique. */
  username: string;
  /** SHA-256 of the generated password (base64url): a fast hash suits a 256-bit random secret. */
  password_hash: string;
  /** The email-server entry it relays through; null = the default entry at the time of sending. */
  entry_id: string | null;
  /** JSON string[]: addresses/CIDRs that may send as this device without AUTH. */
  allowed_ips_json: string;
  /** JSON string[]: allowed envelope senders and From addresses (`@domain` for a whole domain); [] = the entry's mailbox and `from`. */
  allowed_senders_json: string;
  /** 'enforce' (refuse other senders) or 'rewrite' (From becomes the mailbox, the original goes to Reply-To). */
  from_policy: string;
  max_recipients_per_message: number | null;
  max_recipients_per_day: number | null;
  max_message_bytes: number | null;
  enabled: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  last_used_at: string | null;
  last_error_at: string | null;
  /** The last refusal as sent to the device (`550 …`); never message content. */
  last_error: string | null;
}

export interface RelayCountersTable {
  device_id: string;
  /** UTC date, `YYYY-MM-DD`. */
  day: string;
  messages: number;
  recipients: number;
  refused: number;
}

export type RelayTables = {
  relay_devices: RelayDevicesTable;
  relay_counters: RelayCountersTable;
};

export type RelayDeviceRow = Selectable<RelayDevicesTable>;
export type RelayCounterRow = Selectable<RelayCountersTable>;

/** UTC day of a time, the key of the per-day counters. */
export const relayDay = (at: Date): string => at.toISOString().slice(0, 10);

export function createRelayRepository(base: Kysely<Database>) {
  const db = base.withTables<RelayTables>();

  /** Adds to a device's counters of one day (insert or add, atomically on both stores). */
  async function bump(
    deviceId: string,
    at: Date,
    add: { messages: number; recipients: number; refused: number },
  ) {
    await db
      .insertInto('relay_counters')
      .values({ device_id: deviceId, day: relayDay(at), ...add })
      .onConflict((oc) =>
        oc.columns(['device_id', 'day']).doUpdateSet({
          messages: sql`relay_counters.messages + ${add.messages}`,
          recipients: sql`relay_counters.recipients + ${add.recipients}`,
          refused: sql`relay_counters.refused + ${add.refused}`,
        }),
      )
      .execute();
  }

  return {
    async insert(row: RelayDeviceRow): Promise<void> {
      await db.insertInto('relay_devices').values(row).execute();
    },
    async list(): Promise<RelayDeviceRow[]> {
      return db.selectFrom('relay_devices').selectAll().orderBy('name').execute();
    },
    async get(id: string): Promise<RelayDeviceRow | undefined> {
      return db.selectFrom('relay_devices').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async findByUsername(username: string): Promise<RelayDeviceRow | undefined> {
      return db.selectFrom('relay_devices').selectAll().where('username', '=', username).executeTakeFirst();
    },
    async findByName(name: string): Promise<RelayDeviceRow | undefined> {
      return db.selectFrom('relay_devices').selectAll().where('name', '=', name).executeTakeFirst();
    },
    /** Enabled devices with a non-empty IP allow-list (candidates for unauthenticated sending). */
    async listWithAllowedIps(): Promise<RelayDeviceRow[]> {
      return db
        .selectFrom('relay_devices')
        .selectAll()
        .where('enabled', '=', 1)
        .where('allowed_ips_json', '!=', '[]')
        .orderBy('name')
        .execute();
    },
    async update(
      id: string,
      patch: Partial<Omit<RelayDeviceRow, 'id' | 'created_at' | 'created_by'>>,
    ): Promise<boolean> {
      const result = await db.updateTable('relay_devices').set(patch).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async remove(id: string): Promise<boolean> {
      await db.deleteFrom('relay_counters').where('device_id', '=', id).execute();
      const result = await db.deleteFrom('relay_devices').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Recipients the device has had accepted on `at`'s UTC day. */
    async recipientsOn(deviceId: string, at: Date): Promise<number> {
      const row = await db
        .selectFrom('relay_counters')
        .select('recipients')
        .where('device_id', '=', deviceId)
        .where('day', '=', relayDay(at))
        .executeTakeFirst();
      return row?.recipients ?? 0;
    },
    /** Accepted messages (a batch of them) and their recipients. */
    async recordAccepted(deviceId: string, messages: number, recipients: number, at: Date): Promise<void> {
      await bump(deviceId, at, { messages, recipients, refused: 0 });
      await db
        .updateTable('relay_devices')
        .set({ last_used_at: at.toISOString() })
        .where('id', '=', deviceId)
        .execute();
    },
    /** One refusal, with the reply the device got (never content). */
    async recordRefused(deviceId: string, reply: string, at: Date): Promise<void> {
      await bump(deviceId, at, { messages: 0, recipients: 0, refused: 1 });
      await db
        .updateTable('relay_devices')
        .set({ last_error_at: at.toISOString(), last_error: reply.slice(0, 500) })
        .where('id', '=', deviceId)
        .execute();
    },
    /** Counters of the last `days` UTC days, newest first. */
    async counters(deviceId: string, days: number): Promise<RelayCounterRow[]> {
      return db
        .selectFrom('relay_counters')
        .selectAll()
        .where('device_id', '=', deviceId)
        .orderBy('day', 'desc')
        .limit(days)
        .execute();
    },
  };
}

export type RelayRepository = ReturnType<typeof createRelayRepository>;
