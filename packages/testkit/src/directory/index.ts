/**
 * The scriptable directory behind the fake Microsoft services: Entra's side (tenants, app
 * registrations, credentials, admin consent) and Exchange Online's side (service principals,
 * mailbox and SendAs permissions, SMTP AUTH switches). Each setup step of the admin guide is one
 * method here, so a test can leave any single step out and watch the exact failure it causes.
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { thumbprints } from '../pki/index.js';

/** The application permission Exchange checks in the token's `roles` claim. */
export const SMTP_SEND_AS_APP = 'SMTP.SendAsApp';

/** Resource identifiers (token audiences) Exchange Online accepts for SMTP AUTH. */
export const EXCHANGE_RESOURCES = [
  'https://outlook.office365.com',
  'https://outlook.office.com',
  'https://outlook.office365.us',
  'https://partner.outlook.cn',
] as const;

/** Resources a token can be requested for (anything else is AADSTS500011). */
export const KNOWN_RESOURCES = [...EXCHANGE_RESOURCES, 'https://graph.microsoft.com'] as const;

export interface Tenant {
  id: string;
  /** Verified domains, e.g. `contoso.onmicrosoft.com`; the token endpoint accepts them in place of the id. */
  domains: string[];
  /** `Set-TransportConfig -SmtpClientAuthenticationDisabled` inverted. */
  smtpAuthEnabled: boolean;
  /** Security defaults block SMTP AUTH entirely (535 5.7.139 … security defaults policy). */
  securityDefaults: boolean;
}

export interface ClientSecret {
  /** The "Secret ID" column in the portal (users paste it by mistake: AADSTS7000215). */
  id: string;
  /** The "Value" column: what the client must send. */
  value: string;
  /** ms since the epoch; after it the secret is refused with AADSTS7000222. */
  expiresAt: number;
}

export interface RegisteredCertificate {
  certificatePem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
}

export interface AppPermission {
  resource: string;
  /** Application permission (role) name, e.g. `SMTP.SendAsApp`. */
  role: string;
  /** Without admin consent the role is not in the token. */
  adminConsent: boolean;
}

export interface AppRegistration {
  tenantId: string;
  /** Application (client) id. */
  clientId: string;
  displayName: string;
  /** Object id of the app registration (NOT what New-ServicePrincipal wants — a classic pitfall). */
  appObjectId: string;
  /** Object id of the Enterprise Application (service principal) in Entra: the token's `oid`/`sub`. */
  servicePrincipalObjectId: string;
  secrets: ClientSecret[];
  certificates: RegisteredCertificate[];
  permissions: AppPermission[];
}

/** Exchange's record made by `New-ServicePrincipal -AppId … -ObjectId …`. */
export interface ExchangeServicePrincipal {
  tenantId: string;
  appId: string;
  /** The object id the admin passed; it must be the Enterprise Application's for AUTH to work. */
  objectId: string;
  /** Exchange's own id (`Get-ServicePrincipal` → ExchangeObjectId / Identity). */
  identity: string;
}

export interface Mailbox {
  tenantId: string;
  address: string;
  /** `Set-CASMailbox -SmtpClientAuthenticationDisabled`: null follows the tenant setting. */
  smtpAuthEnabled: boolean | null;
  /** Service principals (by Exchange identity or object id) with FullAccess. */
  fullAccess: string[];
  /** Trustees with SendAs on this address (Add-RecipientPermission). */
  sendAs: string[];
}

/** A mail-enabled group (distribution or mail-enabled security group) whose members are mailboxes. */
export interface Group {
  tenantId: string;
  name: string;
  /** The distinguished name a `MemberOfGroup` recipient filter names. */
  distinguishedName: string;
  /** Member addresses, lower-cased. */
  members: string[];
}

/**
 * `New-ManagementScope -Name … -RecipientRestrictionFilter …` (RBAC for Applications, reference §7).
 * The filter supports what the SMTP onboarding guide uses: `MemberOfGroup -eq '<group DN>'`, plus
 * `PrimarySmtpAddress -eq '<address>'`, joined by `-or` (or all by `-and`).
 */
export interface ManagementScope {
  tenantId: string;
  name: string;
  recipientRestrictionFilter: string;
}

/** The only management role Exchange supports for SMTP AUTH under RBAC for Applications (reference §7). */
export const APPLICATION_SMTP_SEND_AS_APP = 'Application SMTP.SendAsApp';

/** `New-ManagementRoleAssignment -Name … -Role … -App <sp> -CustomResourceScope <scope>`. */
export interface ManagementRoleAssignment {
  tenantId: string;
  name: string;
  role: string;
  /** The Exchange service principal's identity the assignment was made for. */
  app: string;
  /** The management scope's name. */
  customResourceScope: string;
}

/** One row of `Test-ServicePrincipalAuthorization -Identity <sp> -Resource <mailbox>` (reference §7). */
export interface ServicePrincipalAuthorizationRow {
  RoleName: string;
  GrantedPermissions: string;
  AllowedResourceScope: string;
  ScopeType: 'CustomRecipientScope';
  InScope: boolean;
}

export interface DirectorySnapshot {
  tenants: Tenant[];
  apps: Array<
    Omit<AppRegistration, 'secrets'> & { secrets: Array<Omit<ClientSecret, 'value'> & { hint: string }> }
  >;
  servicePrincipals: ExchangeServicePrincipal[];
  mailboxes: Mailbox[];
  groups: Group[];
  managementScopes: ManagementScope[];
  managementRoleAssignments: ManagementRoleAssignment[];
}

/** A GUID as Entra writes object, tenant and application ids (8-4-4-4-12 hex digits). */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DirectoryError extends Error {
  override name = 'DirectoryError';
}

/** A secret value shaped like Entra's (40 characters, with the `~` Entra puts in them). */
function newSecretValue(): string {
  const raw = randomBytes(30).toString('base64url');
  return `${raw.slice(0, 3)}8Q~${raw.slice(3, 37)}`;
}

/**
 * Creates an empty directory. `now` is the shared clock (ms), used for default secret expiry.
 */
export function createDirectory(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const tenants = new Map<string, Tenant>();
  const apps = new Map<string, AppRegistration>();
  const servicePrincipals: ExchangeServicePrincipal[] = [];
  const mailboxes = new Map<string, Mailbox>();
  const groups: Group[] = [];
  const scopes: ManagementScope[] = [];
  const assignments: ManagementRoleAssignment[] = [];

  function requireGroup(nameOrDn: string): Group {
    const key = nameOrDn.toLowerCase();
    const g = groups.find((x) => x.name.toLowerCase() === key || x.distinguishedName.toLowerCase() === key);
    if (!g) throw new DirectoryError(`No group '${nameOrDn}'`);
    return g;
  }
  function findScope(tenantId: string, name: string): ManagementScope | undefined {
    return scopes.find((s) => s.tenantId === tenantId && s.name.toLowerCase() === name.toLowerCase());
  }
  /** Exchange's -App accepts the service principal's identity, object id or app id. */
  function resolveServicePrincipal(tenantId: string, app: string): ExchangeServicePrincipal | undefined {
    const key = app.toLowerCase();
    return servicePrincipals.find(
      (sp) => sp.tenantId === tenantId && (sp.identity === key || sp.objectId === key || sp.appId === key),
    );
  }
  function scopeHolds(scope: ManagementScope, address: string): boolean {
    const a = address.toLowerCase();
    return evaluateRecipientFilter(scope.recipientRestrictionFilter, (property, value) => {
      if (property === 'primarysmtpaddress') return value.toLowerCase() === a;
      const group = groups.find(
        (g) => g.tenantId === scope.tenantId && g.distinguishedName.toLowerCase() === value.toLowerCase(),
      );
      return group?.members.includes(a) ?? false;
    });
  }

  function requireTenant(idOrDomain: string): Tenant {
    const t = findTenant(idOrDomain);
    if (!t) throw new DirectoryError(`No tenant '${idOrDomain}'`);
    return t;
  }
  function requireApp(clientId: string): AppRegistration {
    const a = apps.get(clientId.toLowerCase());
    if (!a) throw new DirectoryError(`No app registration with client id '${clientId}'`);
    return a;
  }
  function requireMailbox(address: string): Mailbox {
    const m = mailboxes.get(address.toLowerCase());
    if (!m) throw new DirectoryError(`No mailbox '${address}'`);
    return m;
  }
  function findTenant(idOrDomain: string): Tenant | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = tenants.get(key);
    if (byId) return byId;
    for (const t of tenants.values()) if (t.domains.includes(key)) return t;
    return undefined;
  }

  return {
    // ── Entra ──────────────────────────────────────────────────────────────────────────────────
    addTenant(input: { id?: string; domains?: string[] } = {}): Tenant {
      const id = (input.id ?? randomUUID()).toLowerCase();
      if (!GUID.test(id)) throw new DirectoryError(`Tenant id must be a GUID: '${id}'`);
      const tenant: Tenant = {
        id,
        domains: (input.domains ?? []).map((d) => d.toLowerCase()),
        smtpAuthEnabled: true,
        securityDefaults: false,
      };
      tenants.set(id, tenant);
      return tenant;
    },
    /** Finds a tenant by GUID or verified domain (case-insensitive). */
    findTenant,
    /** Registers an application ("App registrations → New registration"). */
    registerApp(tenantIdOrDomain: string, input: { clientId?: string; displayName?: string } = {}) {
      const tenant = requireTenant(tenantIdOrDomain);
      const app: AppRegistration = {
        tenantId: tenant.id,
        clientId: (input.clientId ?? randomUUID()).toLowerCase(),
        displayName: input.displayName ?? 'SMTP sender',
        appObjectId: randomUUID(),
        servicePrincipalObjectId: randomUUID(),
        secrets: [],
        certificates: [],
        permissions: [],
      };
      apps.set(app.clientId, app);
      return app;
    },
    findApp(clientId: string): AppRegistration | undefined {
      return apps.get(clientId.toLowerCase());
    },
    removeApp(clientId: string): void {
      apps.delete(clientId.toLowerCase());
    },
    /** Adds a client secret; expires in two years unless `expiresAt` (ms) says otherwise. */
    addSecret(clientId: string, input: { value?: string; id?: string; expiresAt?: number } = {}) {
      const secret: ClientSecret = {
        id: input.id ?? randomUUID(),
        value: input.value ?? newSecretValue(),
        expiresAt: input.expiresAt ?? now() + 730 * 86_400_000,
      };
      requireApp(clientId).secrets.push(secret);
      return secret;
    },
    removeSecrets(clientId: string): void {
      requireApp(clientId).secrets = [];
    },
    /** Uploads a certificate's public part to the app ("Certificates & secrets → Certificates"). */
    addCertificate(clientId: string, certificatePem: string): RegisteredCertificate {
      new X509Certificate(certificatePem); // refuse garbage early
      const { thumbprintSha1, thumbprintSha256 } = thumbprints(certificatePem);
      const cert = { certificatePem, thumbprintSha1, thumbprintSha256 };
      requireApp(clientId).certificates.push(cert);
      return cert;
    },
    removeCertificates(clientId: string): void {
      requireApp(clientId).certificates = [];
    },
    /** Adds an application permission ("API permissions → Add"), optionally with admin consent. */
    addPermission(
      clientId: string,
      input: { role?: string; resource?: string; adminConsent?: boolean } = {},
    ): AppPermission {
      const permission: AppPermission = {
        resource: input.resource ?? 'https://outlook.office365.com',
        role: input.role ?? SMTP_SEND_AS_APP,
        adminConsent: input.adminConsent ?? false,
      };
      requireApp(clientId).permissions.push(permission);
      return permission;
    },
    /** "Grant admin consent for <tenant>". */
    grantAdminConsent(clientId: string): void {
      for (const p of requireApp(clientId).permissions) p.adminConsent = true;
    },
    revokeAdminConsent(clientId: string): void {
      for (const p of requireApp(clientId).permissions) p.adminConsent = false;
    },
    /** Roles that go into a token for `resource`: only permissions with admin consent. */
    grantedRoles(clientId: string, resource: string): string[] {
      const app = apps.get(clientId.toLowerCase());
      if (!app) return [];
      // Exchange's permissions are one resource under several host names.
      const isExchange = (r: string) => (EXCHANGE_RESOURCES as readonly string[]).includes(r);
      return app.permissions
        .filter(
          (p) =>
            p.adminConsent && (p.resource === resource || (isExchange(p.resource) && isExchange(resource))),
        )
        .map((p) => p.role);
    },
    setSecurityDefaults(tenantIdOrDomain: string, enabled: boolean): void {
      requireTenant(tenantIdOrDomain).securityDefaults = enabled;
    },

    // ── Exchange Online ───────────────────────────────────────────────────────────────────────
    /** `New-ServicePrincipal -AppId <appId> -ObjectId <objectId>`; like Exchange it accepts any object id. */
    newServicePrincipal(
      tenantIdOrDomain: string,
      input: { appId: string; objectId: string },
    ): ExchangeServicePrincipal {
      const tenant = requireTenant(tenantIdOrDomain);
      const sp: ExchangeServicePrincipal = {
        tenantId: tenant.id,
        appId: input.appId.toLowerCase(),
        objectId: input.objectId.toLowerCase(),
        identity: randomUUID(),
      };
      servicePrincipals.push(sp);
      return sp;
    },
    /** `Remove-ServicePrincipal`. */
    removeServicePrincipal(identityOrObjectId: string): void {
      const key = identityOrObjectId.toLowerCase();
      const i = servicePrincipals.findIndex((sp) => sp.identity === key || sp.objectId === key);
      if (i >= 0) servicePrincipals.splice(i, 1);
    },
    /** The Exchange service principal an app-only token maps to: same app id AND object id (`oid`). */
    findServicePrincipal(
      tenantId: string,
      appId: string,
      objectId: string,
    ): ExchangeServicePrincipal | undefined {
      return servicePrincipals.find(
        (sp) =>
          sp.tenantId === tenantId.toLowerCase() &&
          sp.appId === appId.toLowerCase() &&
          sp.objectId === objectId.toLowerCase(),
      );
    },
    addMailbox(tenantIdOrDomain: string, address: string): Mailbox {
      const tenant = requireTenant(tenantIdOrDomain);
      const mailbox: Mailbox = {
        tenantId: tenant.id,
        address: address.toLowerCase(),
        smtpAuthEnabled: null,
        fullAccess: [],
        sendAs: [],
      };
      mailboxes.set(mailbox.address, mailbox);
      return mailbox;
    },
    findMailbox(address: string): Mailbox | undefined {
      return mailboxes.get(address.toLowerCase());
    },
    /** `Add-MailboxPermission -Identity <mailbox> -User <sp> -AccessRights FullAccess`. */
    addMailboxPermission(mailbox: string, servicePrincipalId: string): void {
      const m = requireMailbox(mailbox);
      const id = servicePrincipalId.toLowerCase();
      if (!m.fullAccess.includes(id)) m.fullAccess.push(id);
    },
    removeMailboxPermission(mailbox: string, servicePrincipalId: string): void {
      const m = requireMailbox(mailbox);
      m.fullAccess = m.fullAccess.filter((x) => x !== servicePrincipalId.toLowerCase());
    },
    /** `Add-RecipientPermission -Identity <address> -Trustee <sp> -AccessRights SendAs`. */
    addRecipientPermission(address: string, trustee: string): void {
      const m = requireMailbox(address);
      const id = trustee.toLowerCase();
      if (!m.sendAs.includes(id)) m.sendAs.push(id);
    },
    removeRecipientPermission(address: string, trustee: string): void {
      const m = requireMailbox(address);
      m.sendAs = m.sendAs.filter((x) => x !== trustee.toLowerCase());
    },
    // ── RBAC for Applications (reference §7) ─────────────────────────────────────────────────
    /** `New-DistributionGroup -Name <name>` (or a mail-enabled security group); members by address. */
    addGroup(tenantIdOrDomain: string, input: { name: string; members?: string[] }): Group {
      const tenant = requireTenant(tenantIdOrDomain);
      if (groups.some((g) => g.tenantId === tenant.id && g.name.toLowerCase() === input.name.toLowerCase()))
        throw new DirectoryError(`A group named '${input.name}' already exists`);
      const domain = tenant.domains[0] ?? `${tenant.id}.onmicrosoft.com`;
      const group: Group = {
        tenantId: tenant.id,
        name: input.name,
        distinguishedName: `CN=${input.name},OU=${domain},OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM`,
        members: [],
      };
      const members = (input.members ?? []).map((m) => requireMailbox(m).address);
      group.members = [...new Set(members)];
      groups.push(group);
      return group;
    },
    /** `Add-DistributionGroupMember -Identity <group> -Member <mailbox>`. */
    addGroupMember(group: string, address: string): void {
      const g = requireGroup(group);
      const m = requireMailbox(address);
      if (!g.members.includes(m.address)) g.members.push(m.address);
    },
    /** `Remove-DistributionGroupMember -Identity <group> -Member <mailbox>`. */
    removeGroupMember(group: string, address: string): void {
      const g = requireGroup(group);
      g.members = g.members.filter((x) => x !== address.toLowerCase());
    },
    /**
     * `New-ManagementScope -Name <name> -RecipientRestrictionFilter <filter>`. Refuses a filter it
     * cannot read and a `MemberOfGroup` naming no group, as Exchange refuses an unresolvable filter.
     */
    newManagementScope(
      tenantIdOrDomain: string,
      input: { name: string; recipientRestrictionFilter: string },
    ): ManagementScope {
      const tenant = requireTenant(tenantIdOrDomain);
      if (findScope(tenant.id, input.name))
        throw new DirectoryError(`A management scope named '${input.name}' already exists`);
      for (const [property, value] of parseRecipientFilter(input.recipientRestrictionFilter).clauses) {
        if (
          property === 'memberofgroup' &&
          !groups.some(
            (g) => g.tenantId === tenant.id && g.distinguishedName.toLowerCase() === value.toLowerCase(),
          )
        )
          throw new DirectoryError(
            `MemberOfGroup names no group: '${value}' (use the group's DistinguishedName)`,
          );
      }
      const scope: ManagementScope = {
        tenantId: tenant.id,
        name: input.name,
        recipientRestrictionFilter: input.recipientRestrictionFilter,
      };
      scopes.push(scope);
      return scope;
    },
    /** `Remove-ManagementScope`; like Exchange it refuses while a role assignment uses the scope. */
    removeManagementScope(tenantIdOrDomain: string, name: string): void {
      const tenant = requireTenant(tenantIdOrDomain);
      const used = assignments.find(
        (a) => a.tenantId === tenant.id && a.customResourceScope.toLowerCase() === name.toLowerCase(),
      );
      if (used)
        throw new DirectoryError(`Management scope '${name}' is used by role assignment '${used.name}'`);
      const i = scopes.findIndex(
        (s) => s.tenantId === tenant.id && s.name.toLowerCase() === name.toLowerCase(),
      );
      if (i >= 0) scopes.splice(i, 1);
    },
    /**
     * `New-ManagementRoleAssignment -Name <name> -Role <role> -App <sp> -CustomResourceScope <scope>`.
     * `-App` takes the Exchange service principal (identity, object id or app id), so
     * New-ServicePrincipal must come first, as in Exchange.
     */
    newManagementRoleAssignment(
      tenantIdOrDomain: string,
      input: { name?: string; role?: string; app: string; customResourceScope: string },
    ): ManagementRoleAssignment {
      const tenant = requireTenant(tenantIdOrDomain);
      const sp = resolveServicePrincipal(tenant.id, input.app);
      if (!sp)
        throw new DirectoryError(
          `No service principal '${input.app}': run New-ServicePrincipal before New-ManagementRoleAssignment`,
        );
      const scope = findScope(tenant.id, input.customResourceScope);
      if (!scope) throw new DirectoryError(`No management scope '${input.customResourceScope}'`);
      const role = input.role ?? APPLICATION_SMTP_SEND_AS_APP;
      if (!role.startsWith('Application '))
        throw new DirectoryError(`'${role}' is not an application role (they are named 'Application …')`);
      const assignment: ManagementRoleAssignment = {
        tenantId: tenant.id,
        name: input.name ?? `${role}-${sp.identity.slice(0, 8)}`,
        role,
        app: sp.identity,
        customResourceScope: scope.name,
      };
      assignments.push(assignment);
      return assignment;
    },
    /** `Remove-ManagementRoleAssignment -Identity <name>`. */
    removeManagementRoleAssignment(tenantIdOrDomain: string, name: string): void {
      const tenant = requireTenant(tenantIdOrDomain);
      const i = assignments.findIndex(
        (a) => a.tenantId === tenant.id && a.name.toLowerCase() === name.toLowerCase(),
      );
      if (i >= 0) assignments.splice(i, 1);
    },
    /**
     * `Test-ServicePrincipalAuthorization -Identity <sp> -Resource <mailbox>`: one row per role
     * assignment of the service principal, with InScope telling whether the mailbox is in its scope.
     */
    testServicePrincipalAuthorization(
      identityOrObjectId: string,
      resource?: string,
    ): ServicePrincipalAuthorizationRow[] {
      const key = identityOrObjectId.toLowerCase();
      const sp = servicePrincipals.find((x) => x.identity === key || x.objectId === key || x.appId === key);
      if (!sp) throw new DirectoryError(`No service principal '${identityOrObjectId}'`);
      return assignments
        .filter((a) => a.tenantId === sp.tenantId && a.app === sp.identity)
        .map((a) => {
          const scope = findScope(a.tenantId, a.customResourceScope);
          return {
            RoleName: a.role,
            GrantedPermissions: a.role.replace(/^Application /, ''),
            AllowedResourceScope: a.customResourceScope,
            ScopeType: 'CustomRecipientScope' as const,
            InScope: resource !== undefined && scope !== undefined && scopeHolds(scope, resource),
          };
        });
    },
    /**
     * Does an `Application SMTP.SendAsApp` assignment of this service principal hold the mailbox
     * in its scope? Without `mailbox`: does the service principal have such an assignment at all?
     */
    rbacAllowsSmtp(sp: ExchangeServicePrincipal, mailbox?: string): boolean {
      return assignments.some((a) => {
        if (a.tenantId !== sp.tenantId || a.app !== sp.identity || a.role !== APPLICATION_SMTP_SEND_AS_APP)
          return false;
        if (mailbox === undefined) return true;
        const scope = findScope(a.tenantId, a.customResourceScope);
        return scope !== undefined && scopeHolds(scope, mailbox);
      });
    },
    /** `Set-TransportConfig -SmtpClientAuthenticationDisabled <!enabled>`. */
    setTenantSmtpAuth(tenantIdOrDomain: string, enabled: boolean): void {
      requireTenant(tenantIdOrDomain).smtpAuthEnabled = enabled;
    },
    /** `Set-CASMailbox <mailbox> -SmtpClientAuthenticationDisabled <!enabled>`; null follows the tenant. */
    setMailboxSmtpAuth(address: string, enabled: boolean | null): void {
      requireMailbox(address).smtpAuthEnabled = enabled;
    },
    /** A view safe to print or send over the inspection API: secret values replaced by a hint. */
    snapshot(): DirectorySnapshot {
      return {
        tenants: [...tenants.values()].map((t) => ({ ...t, domains: [...t.domains] })),
        apps: [...apps.values()].map((a) => ({
          ...a,
          secrets: a.secrets.map((s) => ({
            id: s.id,
            expiresAt: s.expiresAt,
            hint: `${s.value.slice(0, 3)}…`,
          })),
          certificates: a.certificates.map((c) => ({ ...c })),
          permissions: a.permissions.map((p) => ({ ...p })),
        })),
        servicePrincipals: servicePrincipals.map((sp) => ({ ...sp })),
        mailboxes: [...mailboxes.values()].map((m) => ({
          ...m,
          fullAccess: [...m.fullAccess],
          sendAs: [...m.sendAs],
        })),
        groups: groups.map((g) => ({ ...g, members: [...g.members] })),
        managementScopes: scopes.map((x) => ({ ...x })),
        managementRoleAssignments: assignments.map((x) => ({ ...x })),
      };
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;

/** Is SMTP AUTH enabled for this mailbox, taking the tenant default into account? */
export function smtpAuthEnabledFor(tenant: Tenant, mailbox: Mailbox): boolean {
  return mailbox.smtpAuthEnabled ?? tenant.smtpAuthEnabled;
}

/** Does this Exchange service principal hold FullAccess on the mailbox (by identity or object id)? */
export function hasFullAccess(mailbox: Mailbox, sp: ExchangeServicePrincipal): boolean {
  return mailbox.fullAccess.includes(sp.identity) || mailbox.fullAccess.includes(sp.objectId);
}

/** May this service principal send as `address` (its own mailbox with FullAccess, or SendAs)? */
export function maySendAs(mailbox: Mailbox | undefined, sp: ExchangeServicePrincipal): boolean {
  if (!mailbox) return false;
  return mailbox.sendAs.includes(sp.identity) || mailbox.sendAs.includes(sp.objectId);
}

interface ParsedFilter {
  join: 'or' | 'and';
  /** `[property (lower-case), value]` pairs. */
  clauses: Array<[string, string]>;
}

const FILTER_CLAUSE = /^\s*(MemberOfGroup|PrimarySmtpAddress)\s+-eq\s+(?:'([^']*)'|"([^"]*)")\s*$/i;

/**
 * Reads the OPATH recipient filters the SMTP RBAC onboarding uses: `MemberOfGroup -eq '<DN>'` and
 * `PrimarySmtpAddress -eq '<address>'`, joined all by `-or` or all by `-and` (no parentheses).
 * @throws DirectoryError naming what it cannot read.
 */
export function parseRecipientFilter(filter: string): ParsedFilter {
  const hasOr = /\s-or\s/i.test(filter);
  const hasAnd = /\s-and\s/i.test(filter);
  if (hasOr && hasAnd)
    throw new DirectoryError(`Recipient filter mixes -and and -or: '${filter}' (the testkit reads one kind)`);
  const join = hasAnd ? 'and' : 'or';
  const clauses = filter.split(hasAnd ? /\s-and\s/i : /\s-or\s/i).map((part): [string, string] => {
    const m = FILTER_CLAUSE.exec(part);
    if (!m)
      throw new DirectoryError(
        `Recipient filter clause not supported: '${part.trim()}' (use MemberOfGroup -eq '<group DN>' or PrimarySmtpAddress -eq '<address>')`,
      );
    return [(m[1] as string).toLowerCase(), (m[2] ?? m[3]) as string];
  });
  return { join, clauses };
}

function evaluateRecipientFilter(
  filter: string,
  test: (property: string, value: string) => boolean,
): boolean {
  const { join, clauses } = parseRecipientFilter(filter);
  return join === 'and' ? clauses.every(([p, v]) => test(p, v)) : clauses.some(([p, v]) => test(p, v));
}
