import type { AuditTrail } from './audit.js';
import type { LoginLimiter } from './auth/rate-limit.js';
import type { SessionManager, SessionPolicy } from './auth/sessions.js';
import type { SmtpHostPolicy } from './guards/outbound.js';
import type { Logger } from './logger.js';
import type { KeyRing } from './secrets/keyring.js';
import type { Store } from './store/db.js';
import type { createRepositories } from './store/repositories.js';

/** Everything a route needs, built once per server by `createServer`. */
export interface AppContext {
  store: Store;
  repos: ReturnType<typeof createRepositories>;
  keyRing: KeyRing;
  now: () => Date;
  logger: Logger;
  sessions: SessionManager;
  sessionPolicy: SessionPolicy;
  limiter: LoginLimiter;
  audit: AuditTrail;
  /** Constant-cost stand-in hash for unknown accounts. */
  dummyHash: string;
  cookie: { secure: boolean | 'auto' };
  tokenHosts: ReadonlySet<string>;
  smtpHostPolicy: SmtpHostPolicy;
  adminUiDir: string | undefined;
  allowedOrigins: readonly string[];
  bodyLimit: string;
  trustProxy: boolean | number | string;
}
