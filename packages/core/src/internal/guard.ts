/**
 * Input checks at the public entry points, so that plain-JavaScript callers (no type checker) get a
 * typed {@link SmtpOAuthError} naming the argument, never a `TypeError` from deep inside.
 * Structural only: full validation of an entry is `parseConfig`'s job.
 */
import { ConfigError, SmtpOAuthError } from '../errors/smtp-oauth-error.js';

type ConfigCode = 'CONFIG_INVALID' | 'CREDENTIAL_INVALID';

const failure = (path: string, message: string, code: ConfigCode = 'CONFIG_INVALID') =>
  new ConfigError([{ path, message }], { code });
const fail = (path: string, message: string, code: ConfigCode = 'CONFIG_INVALID'): never => {
  throw failure(path, message, code);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` must be a plain object; `undefined` allowed when `optional`. @throws ConfigError */
export function expectObject(value: unknown, path: string, optional = false): void {
  if (optional && value === undefined) return;
  if (!isObject(value)) fail(path, `must be an object${optional ? ' (or omitted)' : ''}`);
}

/** `value` must be a string. @throws ConfigError */
export function expectString(value: unknown, path: string, code: ConfigCode = 'CONFIG_INVALID'): void {
  if (typeof value !== 'string') fail(path, 'must be a string', code);
}

/** A message-domain string argument (an address, a sender). @throws SmtpOAuthError `MESSAGE_INVALID` */
export function expectMessageString(value: unknown, field: string): void {
  if (typeof value !== 'string')
    throw new SmtpOAuthError('MESSAGE_INVALID', `${field} must be a string`, { details: { field } });
}

const CREDENTIAL_FIELDS: Record<string, readonly string[]> = {
  secret: ['secret'],
  certificate: ['certificatePem', 'privateKeyPem'],
  pfx: ['pfxBase64'],
};

/** An OAuth2 client credential object (`{ kind, … }`). @throws ConfigError `CONFIG_INVALID` */
export function expectCredential(credential: unknown, path: string): void {
  if (!isObject(credential)) throw failure(path, "must be { kind: 'secret' | 'certificate' | 'pfx', … }");
  const fields = CREDENTIAL_FIELDS[String(credential.kind)];
  if (!fields) throw failure(`${path}.kind`, "must be 'secret', 'certificate' or 'pfx'");
  for (const f of fields) expectString(credential[f], `${path}.${f}`);
}

/**
 * The parts of an email-server entry the mailer and token providers read, present with the right
 * types. A config from plain JavaScript without `auth` is a `CONFIG_INVALID` naming `auth`.
 * @throws ConfigError `CONFIG_INVALID`
 */
export function expectEmailServerConfig(config: unknown): void {
  if (!isObject(config))
    throw failure(
      '(config)',
      'must be an email-server entry object; load it with parseConfig or defineConfig',
    );
  expectString(config.host, 'host');
  expectString(config.user, 'user');
  if (config.port !== undefined && typeof config.port !== 'number') fail('port', 'must be a number');
  const auth = config.auth;
  if (!isObject(auth))
    throw failure('auth', "is required: { type: 'oauth2', … }, { type: 'password', … } or { type: 'none' }");
  if (auth.type === 'oauth2') {
    for (const f of ['tokenEndpoint', 'clientId', 'scope']) expectString(auth[f], `auth.${f}`);
    expectCredential(auth.credential, 'auth.credential');
  } else if (auth.type === 'password') expectString(auth.password, 'auth.password');
  else if (auth.type !== 'none') fail('auth.type', "must be 'oauth2', 'password' or 'none'");
  expectObject(config.tls, 'tls', true);
  expectObject(config.limits, 'limits', true);
}

/** Options of the token providers: endpoint, client ID, scope and a credential. @throws ConfigError */
export function expectTokenProviderOptions(options: unknown): void {
  if (!isObject(options)) throw failure('options', 'must be { tokenEndpoint, clientId, scope, credential }');
  for (const f of ['tokenEndpoint', 'clientId', 'scope']) expectString(options[f], f);
  expectCredential(options.credential, 'credential');
  if (options.checkUrl !== undefined && typeof options.checkUrl !== 'function')
    fail('checkUrl', 'must be a function (url: URL) => void that throws to refuse a URL');
}

/** Something with a `getToken()` method. @throws ConfigError */
export function expectTokenProvider(provider: unknown): void {
  if (!provider || typeof (provider as { getToken?: unknown }).getToken !== 'function')
    fail('provider', 'must be a TokenProvider (an object with getToken())');
}
