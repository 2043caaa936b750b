import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001-initial.js';
import { outboxA } from './0002-outbox-a.js';
import { outboxB } from './0002-outbox-b.js';
import { securityKeyInstances } from './0003-security-a.js';
import { securityApiKeyScope } from './0003-security-b.js';
import { securityAuditCount } from './0003-security-c.js';
import { relay } from './0004-relay.js';
import { webadminLastTest } from './0005-webadmin-last-test.js';
import { webhookApiKeys } from './0008-webhook-a.js';
import { webhookDeliveries } from './0008-webhook-b.js';
import { leasesClaimOrder } from './0011-leases-claim-order.js';

/** Migrations in order. Names are stable: they are recorded in the database. */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-outbox-a': outboxA,
  '0002-outbox-b': outboxB,
  '0003-security-a': securityKeyInstances,
  '0003-security-b': securityApiKeyScope,
  '0003-security-c': securityAuditCount,
  '0004-relay': relay,
  '0005-webadmin-last-test': webadminLastTest,
  '0008-webhook-a': webhookApiKeys,
  '0008-webhook-b': webhookDeliveries,
  '0011-leases-claim-order': leasesClaimOrder,
};

/** In-code provider: works the same from `src/` under vitest and from the built `dist/`. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
