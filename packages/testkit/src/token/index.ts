// Subpath entry `@org/testkit/token`: the fake Entra v2 token server.

// Server
export { createTokenServer } from './server.js';
export type { TokenAuthMethod, TokenRequestRecord, TokenServer, TokenServerOptions } from './server.js';

// Faults
export type { TokenFault, TokenFaultAction, TokenFaultMatch, TokenFaultSpec, TokenFaults } from './faults.js';

// Multi-tenant apps (service principal required since 31 March 2026)
export type { MultiTenantApps } from './multi-tenant.js';

// Keys
export type { IssuerJwk, IssuerKeys } from './keys.js';

// Errors (Entra's reply shape)
export type { EntraErrorBody } from './errors.js';

// MSAL interop
export { createCaTrustingNetworkClient } from './network-client.js';
export type {
  CaTrustingNetworkClient,
  CaTrustingNetworkClientOptions,
  NetworkRequestOptionsLike,
  NetworkResponseLike,
} from './network-client.js';
