/**
 * One call to a ready fake Microsoft 365: a token server and an Exchange-like SMTP server sharing
 * one clock, one CA and one directory, with a tenant in which every setup step of the admin guide
 * has been done (app registration, secret and certificate, SMTP.SendAsApp with admin consent,
 * New-ServicePrincipal, Add-MailboxPermission). Break any step through `directory` to test a failure.
 */
import { type Clock, type ClockOptions, createClock } from './clock.js';
import {
  type AppRegistration,
  createDirectory,
  type Directory,
  type ExchangeServicePrincipal,
  type Group,
  type ManagementRoleAssignment,
  type ManagementScope,
} from './directory/index.js';
import { createExchangeAuthorizer } from './exchange/index.js';
import { type ClientCertificate, createCertificateAuthority, createClientCertificate } from './pki/index.js';
import {
  type AuthAttempt,
  createSmtpServer,
  type ParsedStoredMessage,
  type SmtpFaults,
  type SmtpLimits,
  type SmtpPersona,
  type SmtpServer,
  type SmtpTlsMode,
  type StoredMessage,
} from './smtp/index.js';
import { type ResolvedLimits, resolveLimits } from './smtp/limits.js';
import {
  createTokenServer,
  type TokenFaults,
  type TokenRequestRecord,
  type TokenServer,
} from './token/index.js';

/** The scope Exchange Online's SMTP AUTH needs for client credentials. */
export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';

export interface TestEnvironmentOptions {
  /** Clock options, or a clock to share. @default a running clock */
  clock?: Clock | ClockOptions;
  /** @default 'exchange' */
  persona?: SmtpPersona;
  /** Exchange's per-mailbox limits; `false` turns them off (benchmarks, bulk tests). @default Exchange's */
  limits?: SmtpLimits | false;
  /** @default 'starttls' */
  smtpMode?: SmtpTlsMode;
  /** Access-token lifetime. @default 3599 */
  tokenTtlSeconds?: number;
  /** Verified domain of the tenant. @default 'contoso.onmicrosoft.com' */
  tenantDomain?: string;
  /** The sending mailbox (the XOAUTH2 `user=`). @default 'sender@<tenantDomain>' */
  mailbox?: string;
  /** Fixed ports (the standalone runner's `--token-port`/`--smtp-port`). @default 0 (free ports) */
  tokenPort?: number;
  smtpPort?: number;
  /** Listen address for both servers. @default '127.0.0.1' */
  host?: string;
  /**
   * Emulate Exchange's High Volume Email endpoint (smtp-hve.office365.com): tokens expiring within
   * 10 minutes get `501 5.5.127`, unknown XOAUTH2 users `501 5.5.124`. @default false
   */
  highVolumeEmail?: boolean;
  /**
   * How the tenant authorizes the app (reference §7). `mailbox`: the classic model — SMTP.SendAsApp
   * with admin consent (the token carries `roles`) and FullAccess on the mailbox. `rbac`: RBAC for
   * Applications — no API permission, a group holding the mailbox, a management scope on that
   * group (`MemberOfGroup -eq '<DN>'`) and an `Application SMTP.SendAsApp` role assignment scoped to
   * it (the token carries no `roles`).
   * @default 'mailbox'
   */
  permissionModel?: 'mailbox' | 'rbac';
}

/** The RBAC for Applications objects `permissionModel: 'rbac'` sets up. */
export interface EnvironmentRbac {
  group: Group;
  scope: ManagementScope;
  assignment: ManagementRoleAssignment;
}

/**
 * A ready email-server entry for this environment, in the shape `@org/core`'s config schema reads
 * (kept as plain data so the testkit never depends on core).
 */
export interface EnvironmentEmailServerConfig {
  name: string;
  host: string;
  port: number;
  security: 'starttls' | 'tls';
  user: string;
  from: string;
  auth: {
    type: 'oauth2';
    provider: 'entra';
    tokenEndpoint: string;
    clientId: string;
    scope: string;
    credential:
      | { kind: 'secret'; secret: string }
      | { kind: 'certificate'; certificatePem: string; privateKeyPem: string; thumbprint: string };
  };
  tls: { ca: string };
  /**
   * The limits the environment's SMTP server enforces per mailbox, so a client that reads them
   * stays within them (absent when the server enforces none).
   */
  limits?: { maxConnections?: number; messagesPerMinute?: number };
}

export interface TestEnvironment {
  readonly clock: Clock;
  readonly directory: Directory;
  readonly tokenServer: TokenServer;
  readonly smtpServer: SmtpServer;
  /** PEM of the CA both servers' certificates chain to; trust it in clients. */
  readonly caPem: string;
  readonly tenantId: string;
  readonly tenantDomain: string;
  readonly clientId: string;
  /** The client secret's Value (what a client sends). */
  readonly clientSecret: string;
  /** The client secret's ID (what users paste by mistake). */
  readonly clientSecretId: string;
  /** The certificate registered on the app, with its private key and thumbprints. */
  readonly certificate: ClientCertificate;
  readonly app: AppRegistration;
  readonly servicePrincipal: ExchangeServicePrincipal;
  readonly mailbox: string;
  readonly scope: string;
  /** `https://127.0.0.1:<port>/<tenantId>/oauth2/v2.0/token` */
  readonly tokenEndpoint: string;
  /** `https://127.0.0.1:<port>/<tenantId>`: MSAL's authority. */
  readonly authority: string;
  readonly smtp: { host: string; port: number };
  /** A ready entry using the client secret. */
  readonly config: EnvironmentEmailServerConfig;
  /** The same entry using the certificate (PEM pair, SHA-256 thumbprint). */
  readonly certificateConfig: EnvironmentEmailServerConfig;
  readonly faults: { token: TokenFaults; smtp: SmtpFaults };
  /** The permission model the tenant was set up with. */
  readonly permissionModel: 'mailbox' | 'rbac';
  /** The group, management scope and role assignment, when `permissionModel` is `rbac`. */
  readonly rbac?: EnvironmentRbac;
  messages(): StoredMessage[];
  waitForMessage(
    predicate?: (message: ParsedStoredMessage) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<ParsedStoredMessage>;
  authAttempts(): AuthAttempt[];
  tokenRequests(): TokenRequestRecord[];
  /** Forgets messages, AUTH attempts, token requests and faults (the directory stays as it is). */
  reset(): void;
  close(): Promise<void>;
}

/** The server's limits in the shape of core's `limits` (finite ones only). */
function configLimits(l: ResolvedLimits): Pick<EnvironmentEmailServerConfig, 'limits'> {
  const limits: NonNullable<EnvironmentEmailServerConfig['limits']> = {};
  if (Number.isFinite(l.concurrentConnectionsPerMailbox))
    limits.maxConnections = l.concurrentConnectionsPerMailbox;
  if (Number.isFinite(l.messagesPerMinute)) limits.messagesPerMinute = l.messagesPerMinute;
  return Object.keys(limits).length ? { limits } : {};
}

function isClock(value: Clock | ClockOptions | undefined): value is Clock {
  return typeof (value as Clock | undefined)?.now === 'function';
}

/**
 * Starts a token server and an SMTP server on free ports of 127.0.0.1 with a fully set-up tenant.
 *
 * @example
 * ```ts
 * const env = await createTestEnvironment();
 * afterAll(() => env.close());
 * // send with your client using env.config, then:
 * const msg = await env.waitForMessage((m) => m.subject === 'Hello');
 * ```
 */
export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const clock = isClock(options.clock) ? options.clock : createClock(options.clock);
  const host = options.host ?? '127.0.0.1';
  const tenantDomain = options.tenantDomain ?? 'contoso.onmicrosoft.com';
  const mailbox = (options.mailbox ?? `sender@${tenantDomain}`).toLowerCase();

  const ca = createCertificateAuthority({ now: new Date(clock.now()) });
  const directory = createDirectory({ now: clock.now });

  // The setup steps of the admin guide, in order.
  const permissionModel = options.permissionModel ?? 'mailbox';
  const tenant = directory.addTenant({ domains: [tenantDomain] });
  const app = directory.registerApp(tenant.id, { displayName: 'SMTP OAuth sender' });
  // RBAC for Applications: Microsoft says not to add SMTP.SendAsApp (reference §7).
  if (permissionModel === 'mailbox') directory.addPermission(app.clientId, { adminConsent: true });
  const secret = directory.addSecret(app.clientId);
  const certificate = createClientCertificate({ now: new Date(clock.now()) });
  directory.addCertificate(app.clientId, certificate.certificatePem);
  const servicePrincipal = directory.newServicePrincipal(tenant.id, {
    appId: app.clientId,
    objectId: app.servicePrincipalObjectId,
  });
  directory.addMailbox(tenant.id, mailbox);
  let rbac: EnvironmentRbac | undefined;
  if (permissionModel === 'mailbox') directory.addMailboxPermission(mailbox, servicePrincipal.identity);
  else {
    const group = directory.addGroup(tenant.id, { name: 'SMTP senders', members: [mailbox] });
    const scope = directory.newManagementScope(tenant.id, {
      name: 'SMTP senders',
      recipientRestrictionFilter: `MemberOfGroup -eq '${group.distinguishedName}'`,
    });
    const assignment = directory.newManagementRoleAssignment(tenant.id, {
      name: 'SMTP senders SendAsApp',
      app: servicePrincipal.identity,
      customResourceScope: scope.name,
    });
    rbac = { group, scope, assignment };
  }

  const tokenServer = await createTokenServer({
    directory,
    clock,
    ca,
    host,
    ...(options.tokenPort !== undefined && { port: options.tokenPort }),
    ...(options.tokenTtlSeconds !== undefined && { tokenTtlSeconds: options.tokenTtlSeconds }),
  });
  const authorizer = createExchangeAuthorizer({ directory, keys: tokenServer.keys.getKey, clock });
  const serverCert = ca.issueServerCertificate({ hosts: ['localhost', host, '::1'] });
  let smtpServer: SmtpServer;
  try {
    smtpServer = await createSmtpServer({
      authorizer,
      clock,
      host,
      tls: { ...serverCert, caPem: ca.certificatePem },
      ...(options.smtpPort !== undefined && { port: options.smtpPort }),
      ...(options.persona && { persona: options.persona }),
      ...(options.limits !== undefined && { limits: options.limits }),
      ...(options.smtpMode && { mode: options.smtpMode }),
      ...(options.highVolumeEmail && {
        hostname: 'smtp-hve.office365.com',
        highVolumeEmail: { isKnownUser: (address: string) => directory.findMailbox(address) !== undefined },
      }),
    });
  } catch (error) {
    await tokenServer.close();
    throw error;
  }

  const tokenEndpoint = tokenServer.tokenEndpoint(tenant.id);
  const base = {
    host: smtpServer.host,
    port: smtpServer.port,
    security: smtpServer.mode === 'implicit-tls' ? ('tls' as const) : ('starttls' as const),
    user: mailbox,
    from: mailbox,
    tls: { ca: ca.certificatePem },
    ...configLimits(resolveLimits(options.limits, options.persona ?? 'exchange')),
  };
  const oauth = {
    type: 'oauth2' as const,
    provider: 'entra' as const,
    tokenEndpoint,
    clientId: app.clientId,
    scope: EXCHANGE_SCOPE,
  };

  return {
    clock,
    directory,
    tokenServer,
    smtpServer,
    caPem: ca.certificatePem,
    tenantId: tenant.id,
    tenantDomain,
    clientId: app.clientId,
    clientSecret: secret.value,
    clientSecretId: secret.id,
    certificate,
    app,
    servicePrincipal,
    mailbox,
    scope: EXCHANGE_SCOPE,
    tokenEndpoint,
    authority: tokenServer.authority(tenant.id),
    smtp: { host: smtpServer.host, port: smtpServer.port },
    config: {
      name: 'Testkit (client secret)',
      ...base,
      auth: { ...oauth, credential: { kind: 'secret', secret: secret.value } },
    },
    certificateConfig: {
      name: 'Testkit (certificate)',
      ...base,
      auth: {
        ...oauth,
        credential: {
          kind: 'certificate',
          certificatePem: certificate.certificatePem,
          privateKeyPem: certificate.privateKeyPem,
          thumbprint: certificate.thumbprintSha256,
        },
      },
    },
    faults: { token: tokenServer.faults, smtp: smtpServer.faults },
    permissionModel,
    ...(rbac && { rbac }),
    messages: () => smtpServer.messages(),
    waitForMessage: (predicate, opts) => smtpServer.waitForMessage(predicate, opts),
    authAttempts: () => smtpServer.authAttempts(),
    tokenRequests: () => tokenServer.requests(),
    reset() {
      smtpServer.clear();
      smtpServer.faults.clear();
      tokenServer.clearRequests();
      tokenServer.faults.clear();
    },
    async close() {
      await Promise.allSettled([smtpServer.close(), tokenServer.close()]);
    },
  };
}
