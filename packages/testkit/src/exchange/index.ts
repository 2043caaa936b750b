// The Exchange Online authorizer: decides SMTP AUTH like Exchange, from the token and the directory.

export { createExchangeAuthorizer, createRemoteKeyGetter, DEFAULT_EXCHANGE_AUDIENCES } from './authorizer.js';
export type { ExchangeAuthorizerOptions, PermissionModel } from './authorizer.js';
