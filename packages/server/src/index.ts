// Server factory
export {
  createServer,
  type CreateServerOptions,
  defaultAdminUiDir,
  type ListeningServer,
  type SmtpOAuthServer,
} from './server.js';
export { loadSettings, type ServerSettings } from './config.js';
export type { RuntimeOptions } from './entry-runtimes.js';
export type { SandboxMode, SandboxModeOptions } from './sandbox.js';

// SMTP relay without the server (the CLI's `smtp-oauth relay`)
export { generateDevicePassword } from './relay/credentials.js';
export type { Relay, RelayOptions, RelayStatus } from './relay/relay.js';
export { relaySettings } from './relay/settings.js';
export {
  type StandaloneDevice,
  type StandaloneRelay,
  type StandaloneRelayOptions,
  startStandaloneRelay,
} from './relay/standalone.js';

// Storage
export { openStore, type Store, type StoreOptions } from './store/db.js';
export type { Database } from './store/schema.js';

// Secrets at rest
export { decryptSecret, encryptSecret, type SecretContext } from './secrets/envelope.js';
export {
  createKeyRing,
  generateKek,
  type Kek,
  type KeyRing,
  loadOrCreateKeyFile,
  parseKeyRing,
} from './secrets/keyring.js';
export { reencryptAll, type RotationResult } from './rotate.js';

// Outbound guards
export { type AddressClass, classifyAddress } from './guards/address-classification.js';
export { DEFAULT_TOKEN_HOSTS, type ResolveHost } from './guards/outbound.js';

// Logging and errors
export { createJsonLogger, type Logger, type LogLevel, silentLogger } from './logger.js';
export { ServerError } from './errors.js';
export { ApiError, type ErrorBody, type Issue } from './http/errors.js';
