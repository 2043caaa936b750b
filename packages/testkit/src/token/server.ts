/**
 * A fake Microsoft Entra v2 token endpoint for the client-credentials grant: the same URLs, checks,
 * error bodies and token claims as login.microsoftonline.com, backed by the scriptable directory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { type Clock, createClock, epochSeconds } from '../clock.js';
import {
  type AppRegistration,
  type Directory,
  GUID,
  KNOWN_RESOURCES,
  type Tenant,
} from '../directory/index.js';
import { type CertificateAuthority, createCertificateAuthority } from '../pki/index.js';
import { assertionAlgorithm, JWT_BEARER, verifyClientAssertion } from './assertion.js';
import { aadsts, type EntraError, EntraRequestError, errorBody } from './errors.js';
import { createFaultRegistry, describeFault, type TokenFault, type TokenFaults } from './faults.js';
import { createIssuerKeys, type IssuerKeyStore, type IssuerKeys } from './keys.js';
import { createMultiTenantApps, type MultiTenantApps } from './multi-tenant.js';

/** How the client authenticated, as the request log records it (never the credential itself). */
export type TokenAuthMethod = 'secret-body' | 'secret-basic' | 'assertion-rs256' | 'assertion-ps256' | 'none';

/** One request to the token endpoint, as recorded by the server. Holds no secret, assertion or token. */
export interface TokenRequestRecord {
  /** When it arrived, by the shared clock (ms since the epoch). */
  at: number;
  /** The `{tenant}` path segment as sent. */
  tenant: string;
  clientId: string | undefined;
  /** `grant_type` as sent. */
  grant: string | undefined;
  authMethod: TokenAuthMethod;
  scope: string | undefined;
  /** `'issued'`, or the OAuth `error` and AADSTS code (`null` when a fault replied with no Entra body). */
  outcome: 'issued' | { error: string; aadsts: number | null };
  /** HTTP status sent (0 when the connection was reset). */
  status: number;
  /** The fault that hit this request, e.g. `status 429 retry-after 2`, `delay 50ms`, `reset`. */
  fault?: string;
  /** The correlation id of the reply (the client's `client-request-id` when it sent a GUID). */
  correlationId: string;
}

export interface TokenServerOptions {
  /** Tenants, apps, credentials and consent the endpoint answers from. */
  directory: Directory;
  /** Shared clock for token times, secret and assertion expiry. @default createClock() (real time) */
  clock?: Clock;
  /** Lifetime of issued access tokens (`expires_in`). @default 3599 */
  tokenTtlSeconds?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /**
   * Serve HTTPS with a certificate from `ca`. MSAL refuses non-https authorities, so leave this on
   * for MSAL clients.
   * @default true
   */
  tls?: boolean;
  /** CA that issues the server certificate. @default a new CA from `createCertificateAuthority()` */
  ca?: CertificateAuthority;
  /**
   * Sign tokens with another token server's keys, so an SMTP server that trusts that one accepts
   * these tokens too — e.g. a second endpoint of the same directory reachable only through a proxy.
   * @default new keys
   */
  shareKeysWith?: TokenServer;
  /**
   * Accept connections only from these source addresses and reset the rest: a network where the
   * identity provider is reachable only through a proxy (bind the proxy's `localAddress` to one).
   * @default any
   */
  acceptFrom?: string[];
  /**
   * Base URL the OpenID metadata names for `token_endpoint`, `jwks_uri` and the other endpoints,
   * instead of this server's own: an identity provider whose metadata points at another host (to
   * test that a client checks the URLs the metadata names). `issuer` stays this server's.
   * @default this server's `url`
   */
  advertisedBaseUrl?: string;
}

export interface TokenServer {
  /** Base URL without trailing slash, e.g. `https://127.0.0.1:54123`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate; clients must trust it. `undefined` with `tls: false`. */
  readonly caPem: string | undefined;
  /** The CA itself (to issue more certificates from the same trust root), `undefined` with `tls: false`. */
  readonly ca: CertificateAuthority | undefined;
  /** The keys access tokens are signed with (public JWKS, a jose key getter, rotation). */
  readonly keys: IssuerKeys;
  /** Scripted faults. */
  readonly faults: TokenFaults;
  /**
   * Multi-tenant apps and their service principals in other tenants: a token request in a tenant
   * without one is refused with AADSTS7000229 (reference §8).
   */
  readonly multiTenantApps: MultiTenantApps;
  /** `{url}/{tenant}/oauth2/v2.0/token`. */
  tokenEndpoint(tenant: string): string;
  /** `{url}/{tenant}`: what MSAL takes as `authority`. */
  authority(tenant: string): string;
  /** Token requests so far, oldest first (copies; secrets never recorded). */
  requests(): TokenRequestRecord[];
  /**
   * Every HTTP request received so far, any path and method (metadata, keys and token requests;
   * kept across `clearRequests`): proof that nothing at all reached this server.
   */
  httpRequestCount(): number;
  clearRequests(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations', 'consumers']);
const MAX_BODY_BYTES = 1_048_576;

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** HTTP Basic client authentication per RFC 6749 §2.3.1: form-url-encoded id and secret. */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined) return undefined;
  return { clientId, secret };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ScopeResult {
  resource: string;
}

/** Client credentials need exactly one `<resource>/.default` scope for a resource the tenant knows. */
function checkScope(scope: string, tenantSegment: string): ScopeResult {
  const parts = scope.split(/\s+/).filter(Boolean);
  if (parts.length !== 1) throw new EntraRequestError(aadsts.scopeInvalid(scope));
  const only = parts[0] as string;
  if (!only.endsWith('/.default')) throw new EntraRequestError(aadsts.scopeNeedsDefault(only));
  const resource = only.slice(0, -'/.default'.length);
  if (resource.length === 0 || /[,;"'<>\\\s]/.test(resource))
    throw new EntraRequestError(aadsts.scopeInvalid(only));
  // `https://outlook.office365.com//.default` asks for the audience with a trailing slash; Entra issues it as such.
  const canonical = resource.replace(/\/$/, '');
  if (!(KNOWN_RESOURCES as readonly string[]).includes(canonical.toLowerCase())) {
    throw new EntraRequestError(aadsts.resourceNotFound(resource, tenantSegment));
  }
  return { resource };
}

// The private signing keys of each server, for shareKeysWith (never part of the public interface).
const keyStores = new WeakMap<TokenServer, IssuerKeyStore>();

/** Starts a fake Entra v2 token server. */
export async function createTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const { directory } = options;
  const clock = options.clock ?? createClock();
  const ttl = options.tokenTtlSeconds ?? 3599;
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new RangeError(
      `tokenTtlSeconds must be a positive integer, got ${String(options.tokenTtlSeconds)}`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  const useTls = options.tls ?? true;
  const ca = useTls ? (options.ca ?? createCertificateAuthority()) : undefined;
  const shared = options.shareKeysWith ? keyStores.get(options.shareKeysWith) : undefined;
  if (options.shareKeysWith && !shared)
    throw new TypeError('shareKeysWith must be a server from createTokenServer');
  const keys = shared ?? (await createIssuerKeys());
  const faults = createFaultRegistry();
  const multiTenantApps = createMultiTenantApps();
  const log: TokenRequestRecord[] = [];
  const seenJtis = new Map<string, number>();
  let base = '';
  let httpRequests = 0;
  let hostAndPort = '';

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store, no-cache',
      Pragma: 'no-cache',
      'x-ms-ests-server': '2.1.testkit',
      ...headers,
    });
    res.end(text);
  }

  function sendError(
    res: ServerResponse,
    e: EntraError,
    ids: { traceId: string; correlationId: string },
    extra = {},
  ) {
    send(res, e.status, errorBody(e, { now: new Date(clock.now()), ...ids }), {
      'x-ms-request-id': ids.traceId,
      'client-request-id': ids.correlationId,
      ...extra,
    });
  }

  function resolveTenant(segment: string): Tenant {
    if (MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())) {
      throw new EntraRequestError(aadsts.multiTenantEndpoint(segment.toLowerCase()));
    }
    const tenant = directory.findTenant(segment);
    if (!tenant) throw new EntraRequestError(aadsts.tenantNotFound(segment));
    return tenant;
  }

  function assertionAudiences(tenant: Tenant, segment: string): Set<string> {
    const names = new Set([tenant.id, ...tenant.domains, segment.toLowerCase()]);
    const out = new Set<string>();
    for (const n of names) {
      out.add(`${base}/${n}/oauth2/v2.0/token`.toLowerCase());
      out.add(`${base}/${n}/oauth2/token`.toLowerCase());
    }
    return out;
  }

  async function issueToken(app: AppRegistration, tenant: Tenant, resource: string, acr: '1' | '2') {
    const now = epochSeconds(clock);
    const roles = directory.grantedRoles(app.clientId, resource.replace(/\/$/, ''));
    const claims: Record<string, unknown> = {
      aud: resource,
      iss: `https://sts.windows.net/${tenant.id}/`,
      iat: now,
      nbf: now,
      exp: now + ttl,
      appid: app.clientId,
      appidacr: acr,
      idtyp: 'app',
      oid: app.servicePrincipalObjectId,
      // No consent, no claim: Exchange sees a token without `roles` at all, as with Entra.
      ...(roles.length > 0 ? { roles } : {}),
      sub: app.servicePrincipalObjectId,
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url').slice(0, 22),
      ver: '1.0',
    };
    const { kid, privateKey } = keys.signer();
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: kid, kid })
      .sign(privateKey);
    return { token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: accessToken };
  }

  async function applyFault(
    fault: TokenFault,
    res: ServerResponse,
    ids: { traceId: string; correlationId: string },
  ): Promise<{ done: boolean; status: number; outcome?: TokenRequestRecord['outcome'] }> {
    const action = fault.action;
    switch (action.type) {
      case 'delay':
        await sleep(action.ms);
        return { done: false, status: 0 };
      case 'reset':
        res.socket?.destroy();
        return { done: true, status: 0, outcome: { error: 'connection-reset', aadsts: null } };
      case 'redirect':
        res.writeHead(action.status, { Location: action.location, 'Content-Length': '0' });
        res.end();
        return {
          done: true,
          status: action.status,
          outcome: { error: `redirect-${action.status}`, aadsts: null },
        };
      case 'malformed-json':
        send(res, 200, '{"token_type":"Bearer","expires_in":35');
        return { done: true, status: 200, outcome: { error: 'malformed-json', aadsts: null } };
      case 'status': {
        const headers: Record<string, string> = {};
        if (action.retryAfter !== undefined) headers['Retry-After'] = String(action.retryAfter);
        if (action.body !== undefined) {
          send(res, action.status, action.body, headers);
          return {
            done: true,
            status: action.status,
            outcome: { error: `http-${action.status}`, aadsts: null },
          };
        }
        const e = action.status === 429 ? aadsts.throttled() : aadsts.transient(action.status);
        sendError(res, { ...e, status: action.status }, ids, headers);
        return { done: true, status: action.status, outcome: { error: e.error, aadsts: e.aadsts } };
      }
    }
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, segment: string, url: URL) {
    const path = url.pathname;
    // MSAL sends its correlation id both as a header and as `?client-request-id=` on the token URL.
    const suppliedCorrelation = req.headers['client-request-id'] ?? url.searchParams.get('client-request-id');
    const ids = {
      traceId: randomUUID(),
      correlationId:
        typeof suppliedCorrelation === 'string' && GUID.test(suppliedCorrelation)
          ? suppliedCorrelation
          : randomUUID(),
    };
    const record: TokenRequestRecord = {
      at: clock.now(),
      tenant: segment,
      clientId: undefined,
      grant: undefined,
      authMethod: 'none',
      scope: undefined,
      outcome: 'issued',
      status: 200,
      correlationId: ids.correlationId,
    };
    log.push(record);

    let raw = '';
    try {
      raw = req.method === 'POST' ? await readBody(req) : '';
    } catch {
      res.socket?.destroy();
      record.status = 0;
      record.outcome = { error: 'body-too-large', aadsts: null };
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    const params = contentType.startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(raw)
      : new URLSearchParams();
    const basic = parseBasic(req.headers.authorization);
    record.grant = params.get('grant_type') ?? undefined;
    record.scope = params.get('scope') ?? undefined;
    record.clientId = params.get('client_id') ?? basic?.clientId;
    const assertion = params.get('client_assertion');
    const bodySecret = params.get('client_secret');
    if (basic) record.authMethod = 'secret-basic';
    else if (bodySecret !== null) record.authMethod = 'secret-body';
    else if (assertion !== null) {
      const alg = assertionAlgorithm(assertion);
      record.authMethod = alg === 'PS256' ? 'assertion-ps256' : 'assertion-rs256';
    }

    const fault = faults.take({ path, tenant: segment, clientId: record.clientId, isTokenRequest: true });
    if (fault) {
      record.fault = describeFault(fault);
      const r = await applyFault(fault, res, ids);
      if (r.done) {
        record.status = r.status;
        if (r.outcome) record.outcome = r.outcome;
        return;
      }
    }

    try {
      if (req.method !== 'POST') throw new EntraRequestError(aadsts.postOnly(req.method ?? 'GET'));
      const grant = params.get('grant_type');
      if (!grant) throw new EntraRequestError(aadsts.missingParameter('grant_type'));
      if (grant !== 'client_credentials') throw new EntraRequestError(aadsts.unsupportedGrant(grant));
      const tenant = resolveTenant(segment);
      const bodyClientId = params.get('client_id');
      if (basic && bodyClientId && bodyClientId.toLowerCase() !== basic.clientId.toLowerCase()) {
        throw new EntraRequestError(aadsts.clientIdMismatch());
      }
      const clientId = bodyClientId ?? basic?.clientId;
      if (!clientId) throw new EntraRequestError(aadsts.missingParameter('client_id'));
      const scope = params.get('scope');
      if (!scope) throw new EntraRequestError(aadsts.missingParameter('scope'));
      const app = directory.findApp(clientId);
      if (!app || (app.tenantId !== tenant.id && !multiTenantApps.isMultiTenant(app.clientId)))
        throw new EntraRequestError(aadsts.appNotFound(clientId, segment));
      if (app.tenantId !== tenant.id && !multiTenantApps.hasServicePrincipal(app.clientId, tenant.id))
        throw new EntraRequestError(aadsts.missingServicePrincipal(app.clientId, tenant.id));
      const { resource } = checkScope(scope, segment);

      let acr: '1' | '2';
      const secret = basic?.secret ?? bodySecret;
      if (secret !== null && secret !== undefined) {
        const match = app.secrets.find((s) => s.value === secret);
        // A value equal to a secret's ID (the portal's other column) is just a wrong secret: 7000215.
        if (!match) throw new EntraRequestError(aadsts.invalidSecret(app.clientId));
        if (match.expiresAt <= clock.now()) throw new EntraRequestError(aadsts.expiredSecret(app.clientId));
        acr = '1';
      } else if (assertion !== null) {
        const type = params.get('client_assertion_type');
        if (!type) throw new EntraRequestError(aadsts.missingParameter('client_assertion_type'));
        if (type !== JWT_BEARER) throw new EntraRequestError(aadsts.assertionType(type));
        await verifyClientAssertion(assertion, {
          app,
          clientId: app.clientId,
          audiences: assertionAudiences(tenant, segment),
          nowMs: clock.now(),
          seenJtis,
        });
        acr = '2';
      } else {
        throw new EntraRequestError(aadsts.missingCredential());
      }

      const body = await issueToken(app, tenant, resource, acr);
      send(res, 200, body, { 'x-ms-request-id': ids.traceId, 'client-request-id': ids.correlationId });
      record.status = 200;
      record.outcome = 'issued';
    } catch (err) {
      const e = err instanceof EntraRequestError ? err.entra : aadsts.transient(500);
      sendError(res, e, ids);
      record.status = e.status;
      record.outcome = { error: e.error, aadsts: e.aadsts };
    }
  }

  function openIdConfiguration(segment: string) {
    const lower = segment.toLowerCase();
    const multi = MULTI_TENANT_SEGMENTS.has(lower);
    const tenant = multi ? undefined : directory.findTenant(segment);
    if (!multi && !tenant) return undefined;
    // Entra answers a domain with the GUID in every endpoint; MSAL maps it back to the domain itself.
    const t = tenant ? tenant.id : lower;
    const at = options.advertisedBaseUrl?.replace(/\/$/, '') ?? base;
    return {
      token_endpoint: `${at}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${at}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${tenant ? tenant.id : '{tenantid}'}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${at}/oidc/userinfo`,
      authorization_endpoint: `${at}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${at}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${at}/${t}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${at}/${t}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  function instanceDiscovery(url: URL) {
    const endpoint = url.searchParams.get('authorization_endpoint');
    let parsed: URL | undefined;
    try {
      parsed = endpoint ? new URL(endpoint) : undefined;
    } catch {
      parsed = undefined;
    }
    const aliases = [hostAndPort, `localhost:${new URL(base).port}`];
    if (!parsed || !aliases.includes(parsed.host.toLowerCase())) return undefined;
    const segment = parsed.pathname.split('/').filter(Boolean)[0] ?? 'common';
    return {
      tenant_discovery_endpoint: `${base}/${segment}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: hostAndPort, preferred_cache: hostAndPort, aliases }],
    };
  }

  function jwksFor(segment: string) {
    const lower = segment.toLowerCase();
    const tenant = MULTI_TENANT_SEGMENTS.has(lower) ? undefined : directory.findTenant(segment);
    if (!tenant && !MULTI_TENANT_SEGMENTS.has(lower)) return undefined;
    const issuer = `${base}/${tenant ? tenant.id : '{tenantid}'}/v2.0`;
    return { keys: keys.jwks().keys.map((k) => ({ ...k, issuer })) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    httpRequests++;
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname;
    const segments = path.split('/').filter(Boolean);
    const segment = segments[0] ?? '';
    const rest = segments.slice(1).join('/');
    if (rest === 'oauth2/v2.0/token') {
      await handleToken(req, res, segment, url);
      return;
    }

    const ids = { traceId: randomUUID(), correlationId: randomUUID() };
    const fault = faults.take({ path, tenant: segment, clientId: undefined, isTokenRequest: false });
    if (fault) {
      const r = await applyFault(fault, res, ids);
      if (r.done) return;
    }
    if (req.method !== 'GET') {
      send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET' });
      return;
    }
    if (segment.toLowerCase() === 'common' && rest === 'discovery/instance') {
      const doc = instanceDiscovery(url);
      if (doc) send(res, 200, doc, { 'Cache-Control': 'max-age=86400, private' });
      else sendError(res, aadsts.unknownInstance(), ids);
      return;
    }
    if (rest === 'v2.0/.well-known/openid-configuration') {
      const doc = openIdConfiguration(segment);
      if (doc) send(res, 200, doc, { 'Cache-Control': 'max-age=86400, private' });
      else sendError(res, aadsts.tenantNotFound(segment), ids);
      return;
    }
    if (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys') {
      const doc = jwksFor(segment);
      if (doc) send(res, 200, doc, { 'Cache-Control': 'max-age=86400, private' });
      else sendError(res, aadsts.tenantNotFound(segment), ids);
      return;
    }
    send(res, 404, {
      error: 'not_found',
      error_description: `The testkit token server has no route ${path}.`,
    });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  };

  let server: Server;
  if (ca) {
    const leaf = ca.issueServerCertificate({ hosts: [...new Set(['localhost', '127.0.0.1', '::1', host])] });
    server = createHttpsServer(
      { cert: leaf.certificatePem, key: leaf.privateKeyPem, minVersion: 'TLSv1.2' },
      listener,
    );
  } else {
    server = createHttpServer(listener);
  }
  const acceptFrom = options.acceptFrom ? new Set(options.acceptFrom) : undefined;
  if (acceptFrom)
    server.on('connection', (socket) => {
      const from = socket.remoteAddress?.replace(/^::ffff:/, '');
      if (!from || !acceptFrom.has(from)) socket.destroy();
    });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  hostAndPort = `${urlHost}:${port}`.toLowerCase();
  base = `${ca ? 'https' : 'http'}://${hostAndPort}`;

  const tokenServer: TokenServer = {
    url: base,
    host,
    port,
    caPem: ca?.certificatePem,
    ca,
    keys,
    faults,
    multiTenantApps,
    tokenEndpoint: (tenant) => `${base}/${tenant}/oauth2/v2.0/token`,
    authority: (tenant) => `${base}/${tenant}`,
    requests: () => log.map((r) => ({ ...r, outcome: r.outcome === 'issued' ? 'issued' : { ...r.outcome } })),
    httpRequestCount: () => httpRequests,
    clearRequests: () => {
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  keyStores.set(tokenServer, keys);
  return tokenServer;
}
