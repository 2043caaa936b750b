import type { LastTest, TestCheck } from '@org/core/api';
import type { Kysely, Selectable } from 'kysely';
import type { Database, EmailServersTable } from './schema.js';

export type EmailServerRow = Selectable<EmailServersTable>;

/** Stored secret fields: field path (e.g. `auth.clientSecret`) → envelope string. */
export type SecretEnvelopes = Record<string, string>;

export interface EmailServerRecord {
  id: string;
  name: string;
  isDefault: boolean;
  /** Config with every secret field removed. */
  config: Record<string, unknown>;
  secrets: SecretEnvelopes;
  lastTest: LastTest | null;
  createdAt: string;
  updatedAt: string;
}

function toRecord(row: EmailServerRow): EmailServerRecord {
  return {
    id: row.id,
    name: row.name,
    isDefault: Number(row.is_default) === 1,
    config: JSON.parse(row.config_json) as Record<string, unknown>,
    secrets: JSON.parse(row.secrets_json) as SecretEnvelopes,
    lastTest: row.last_test_at === null ? null : lastTestOf(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const isCheck = (v: string | null): v is TestCheck => v === 'token' || v === 'diagnose' || v === 'send-test';

function lastTestOf(row: EmailServerRow): LastTest {
  const test: LastTest = {
    ok: Number(row.last_test_ok) === 1,
    at: row.last_test_at ?? '',
    message: row.last_test_message,
  };
  if (isCheck(row.last_test_check)) test.check = row.last_test_check;
  // An earlier failure of another check, still standing behind a newer success.
  if (test.ok && row.last_failure_at !== null && isCheck(row.last_failure_check))
    test.earlierFailure = {
      check: row.last_failure_check,
      at: row.last_failure_at,
      message: row.last_failure_message,
    };
  return test;
}

export function createEmailServersRepository(db: Kysely<Database>) {
  return {
    async list(): Promise<EmailServerRecord[]> {
      const rows = await db.selectFrom('email_servers').selectAll().orderBy('name').execute();
      return rows.map(toRecord);
    },
    async get(id: string): Promise<EmailServerRecord | undefined> {
      const row = await db.selectFrom('email_servers').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async getByName(name: string): Promise<EmailServerRecord | undefined> {
      const row = await db
        .selectFrom('email_servers')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async getDefault(): Promise<EmailServerRecord | undefined> {
      const row = await db
        .selectFrom('email_servers')
        .selectAll()
        .where('is_default', '=', 1)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async insert(input: {
      id: string;
      name: string;
      config: Record<string, unknown>;
      secrets: SecretEnvelopes;
      at: Date;
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        // The first entry becomes the default: the send API then works without choosing one.
        const existing = await trx.selectFrom('email_servers').select('id').limit(1).executeTakeFirst();
        await trx
          .insertInto('email_servers')
          .values({
            id: input.id,
            name: input.name,
            is_default: existing ? 0 : 1,
            config_json: JSON.stringify(input.config),
            secrets_json: JSON.stringify(input.secrets),
            last_test_ok: null,
            last_test_at: null,
            last_test_message: null,
            created_at: input.at.toISOString(),
            updated_at: input.at.toISOString(),
          })
          .execute();
      });
    },
    async update(input: {
      id: string;
      name: string;
      config: Record<string, unknown>;
      secrets: SecretEnvelopes;
      at: Date;
    }): Promise<boolean> {
      const result = await db
        .updateTable('email_servers')
        .set({
          name: input.name,
          config_json: JSON.stringify(input.config),
          secrets_json: JSON.stringify(input.secrets),
          updated_at: input.at.toISOString(),
        })
        .where('id', '=', input.id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async updateSecrets(id: string, secrets: SecretEnvelopes): Promise<void> {
      await db
        .updateTable('email_servers')
        .set({ secrets_json: JSON.stringify(secrets) })
        .where('id', '=', id)
        .execute();
    },
    /**
     * Records a test. A failure is also kept as the standing failure; a success clears it only when
     * it is the same check (a passing token test says nothing about a failed test send).
     */
    async recordTest(
      id: string,
      result: { ok: boolean; message: string | null; at: Date; check: TestCheck },
    ): Promise<void> {
      const at = result.at.toISOString();
      const failure = !result.ok
        ? { last_failure_check: result.check, last_failure_at: at, last_failure_message: result.message }
        : undefined;
      await db
        .updateTable('email_servers')
        .set({
          last_test_ok: result.ok ? 1 : 0,
          last_test_at: at,
          last_test_message: result.message,
          last_test_check: result.check,
          ...(failure ?? {}),
        })
        .where('id', '=', id)
        .execute();
      if (result.ok)
        await db
          .updateTable('email_servers')
          .set({ last_failure_check: null, last_failure_at: null, last_failure_message: null })
          .where('id', '=', id)
          .where('last_failure_check', '=', result.check)
          .execute();
    },
    /**
     * Deletes an entry. When it was the default, the oldest remaining entry becomes the default in
     * the same transaction, so the send API never sees "no default" while entries exist. `within`
     * runs in that transaction too (the audit records), so the change and its record stand or fall
     * together. Resolves to `undefined` when there was no such entry.
     */
    async delete(
      id: string,
      within?: (trx: Kysely<Database>, outcome: { promotedId: string | null }) => Promise<void>,
    ): Promise<{ promotedId: string | null } | undefined> {
      return db.transaction().execute(async (trx) => {
        const found = await trx
          .selectFrom('email_servers')
          .select('is_default')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!found) return undefined;
        await trx.deleteFrom('email_servers').where('id', '=', id).execute();
        let promotedId: string | null = null;
        if (Number(found.is_default) === 1) {
          const oldest = await trx
            .selectFrom('email_servers')
            .select('id')
            .orderBy('created_at')
            .orderBy('id')
            .limit(1)
            .executeTakeFirst();
          if (oldest) {
            await trx
              .updateTable('email_servers')
              .set({ is_default: 1 })
              .where('id', '=', oldest.id)
              .execute();
            promotedId = oldest.id;
          }
        }
        await within?.(trx, { promotedId });
        return { promotedId };
      });
    },
    async setDefault(id: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const found = await trx
          .selectFrom('email_servers')
          .select('id')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!found) return false;
        await trx.updateTable('email_servers').set({ is_default: 0 }).where('is_default', '=', 1).execute();
        await trx.updateTable('email_servers').set({ is_default: 1 }).where('id', '=', id).execute();
        return true;
      });
    },
  };
}

export type EmailServersRepository = ReturnType<typeof createEmailServersRepository>;
