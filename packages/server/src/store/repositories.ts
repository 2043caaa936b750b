import type { Kysely } from 'kysely';
import { createAdminsRepository } from './admins-repository.js';
import { createApiKeysRepository } from './api-keys-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createEmailServersRepository } from './email-servers-repository.js';
import type { Database } from './schema.js';
import { createSentLogRepository } from './sent-log-repository.js';
import { createSessionsRepository } from './sessions-repository.js';
import { createThrottleRepository } from './throttle-repository.js';

export function createRepositories(db: Kysely<Database>) {
  return {
    admins: createAdminsRepository(db),
    sessions: createSessionsRepository(db),
    emailServers: createEmailServersRepository(db),
    apiKeys: createApiKeysRepository(db),
    audit: createAuditRepository(db),
    sentLog: createSentLogRepository(db),
    throttle: createThrottleRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
