/**
 * Decides XOAUTH2/OAUTHBEARER logins as Exchange Online does: first the token (JWT, signature,
 * lifetime, audience, SMTP.SendAsApp), then the directory (tenant, security defaults, the service
 * principal registered with New-ServicePrincipal, the mailbox, the SMTP AUTH switches). Each refusal
 * carries a `reason` that names the exact setup step that is missing, never the token.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type Clock, createClock } from '../clock.js';
import {
  APPLICATION_SMTP_SEND_AS_APP,
  type Directory,
  EXCHANGE_RESOURCES,
  hasFullAccess,
  maySendAs,
  SMTP_SEND_AS_APP,
  smtpAuthEnabledFor,
} from '../directory/index.js';
import type { AuthDecision, AuthRequest, SmtpAuthorizer, SmtpIdentity } from '../smtp/authorizer.js';

/**
 * How Exchange authorized an app-only token (reference §7): `mailbox` — the token's SMTP.SendAsApp
 * role plus FullAccess on the mailbox; `rbac` — RBAC for Applications, a management role assignment
 * whose scope holds the mailbox (the token carries no SMTP.SendAsApp).
 */
export type PermissionModel = 'mailbox' | 'rbac';

export interface ExchangeAuthorizerOptions {
  directory: Directory;
  /**
   * The token issuer's public keys: a JWKS object, a jose key getter (e.g. `tokenServer.keys.getKey`,
   * which follows key rotation), or a JWKS URL (fetched with `ca`, refetched on an unknown `kid`).
   */
  keys: JSONWebKeySet | JWTVerifyGetKey | string | URL;
  /** CA PEM to trust when `keys` is an https URL served by the testkit. */
  ca?: string;
  /** Shared clock for `exp`/`nbf`. @default createClock() */
  clock?: Clock;
  /**
   * Accepted `aud` values.
   * @default every Exchange Online resource (reference §2, §6), each with and without a trailing slash
   */
  audiences?: string[];
  /** Tolerated clock skew for `exp`/`nbf`. @default 300 */
  clockSkewSeconds?: number;
}

/** The default audience allow-list: Exchange's resources with and without trailing slash. */
export const DEFAULT_EXCHANGE_AUDIENCES: readonly string[] = EXCHANGE_RESOURCES.flatMap((r) => [r, `${r}/`]);

function fetchJson(url: URL, ca: string | undefined): Promise<unknown> {
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(url, { method: 'GET', ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if ((res.statusCode ?? 0) !== 200) {
          reject(new Error(`JWKS ${url.href} answered HTTP ${res.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (cause) {
          reject(new Error(`JWKS ${url.href} is not JSON`, { cause }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`JWKS ${url.href} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A key getter over a remote JWKS that trusts `ca`; refetches (at most every 5 s) when a `kid` is unknown. */
export function createRemoteKeyGetter(url: string | URL, ca?: string): JWTVerifyGetKey {
  const target = new URL(url);
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = 0;
  const load = async () => {
    const jwks = (await fetchJson(target, ca)) as JSONWebKeySet;
    local = createLocalJWKSet(jwks);
    fetchedAt = Date.now();
  };
  return async (header, token) => {
    if (!local) await load();
    try {
      return await (local as JWTVerifyGetKey)(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey && Date.now() - fetchedAt > 5_000) {
        await load();
        return (local as JWTVerifyGetKey)(header, token);
      }
      throw err;
    }
  };
}

function toKeyGetter(keys: ExchangeAuthorizerOptions['keys'], ca: string | undefined): JWTVerifyGetKey {
  if (typeof keys === 'function') return keys;
  if (typeof keys === 'string' || keys instanceof URL) return createRemoteKeyGetter(keys, ca);
  return createLocalJWKSet(keys);
}

function isoSeconds(s: number): string {
  return new Date(s * 1000).toISOString();
}

/** Creates an `SmtpAuthorizer` that judges app-only tokens as Exchange Online does. */
export function createExchangeAuthorizer(options: ExchangeAuthorizerOptions): SmtpAuthorizer {
  const { directory } = options;
  const clock = options.clock ?? createClock();
  const skew = options.clockSkewSeconds ?? 300;
  const audiences = new Set((options.audiences ?? DEFAULT_EXCHANGE_AUDIENCES).map((a) => a.toLowerCase()));
  const getKey = toKeyGetter(options.keys, options.ca);

  // Which model authorized each accepted identity; the SMTP server hands the same object back.
  const models = new WeakMap<SmtpIdentity, PermissionModel>();

  function findServicePrincipal(identity: SmtpIdentity) {
    return directory.findServicePrincipal(
      identity.tenantId,
      identity.appId,
      identity.servicePrincipalObjectId,
    );
  }

  async function authenticate(request: AuthRequest): Promise<AuthDecision> {
    const mailbox = request.user.trim().toLowerCase();
    const refuse = (reason: string, identity?: Partial<SmtpIdentity>): AuthDecision => ({
      ok: false,
      refusal: 'authentication-unsuccessful',
      reason,
      ...(identity ? { identity } : {}),
    });

    // 1. Is it a JWT at all? (Decoding only; nothing is trusted before the signature check.)
    let unverified: JWTPayload;
    try {
      decodeProtectedHeader(request.token);
      unverified = decodeJwt(request.token);
    } catch {
      return refuse('token is not a JWT', { mailbox });
    }
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const claimed: Partial<SmtpIdentity> = { mailbox };
    if (str(unverified.appid)) claimed.appId = str(unverified.appid);
    if (str(unverified.tid)) claimed.tenantId = str(unverified.tid);
    if (str(unverified.oid)) claimed.servicePrincipalObjectId = str(unverified.oid);

    // 2. Signature, then 3. lifetime (with skew, on the shared clock).
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(request.token, getKey, {
        algorithms: ['RS256'],
        currentDate: new Date(clock.now()),
        clockTolerance: skew,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        return refuse(
          `token expired at ${isoSeconds(Number(unverified.exp))} (now ${new Date(clock.now()).toISOString()}, skew ${skew}s)`,
          claimed,
        );
      }
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') {
        return refuse(`token not valid before ${isoSeconds(Number(unverified.nbf))}`, claimed);
      }
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        return refuse(`token claim '${err.claim}' is invalid: ${err.reason}`, claimed);
      }
      if (err instanceof joseErrors.JWKSNoMatchingKey) {
        return refuse('token signature invalid: no key in the issuer JWKS matches its kid', claimed);
      }
      if (err instanceof joseErrors.JOSEAlgNotAllowed) {
        return refuse('token signature invalid: algorithm is not RS256', claimed);
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        return refuse('token signature invalid: it was not signed by the token issuer', claimed);
      }
      return refuse(`token could not be verified (${err instanceof Error ? err.name : 'error'})`, claimed);
    }
    if (typeof claims.exp !== 'number') return refuse('token has no exp claim', claimed);

    // 4. Audience.
    const auds = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
    if (!auds.some((a) => audiences.has(a.toLowerCase()))) {
      return refuse(
        `token audience '${auds.join(', ')}' is not Exchange Online; request the scope https://outlook.office365.com/.default`,
        claimed,
      );
    }

    const appId = str(claims.appid) ?? str(claims.azp);
    const tenantId = str(claims.tid);
    const oid = str(claims.oid);
    if (!appId || !tenantId || !oid) return refuse('token lacks appid, tid or oid', claimed);
    if (claims.upn !== undefined || claims.scp !== undefined) {
      return refuse('token is a delegated (user) token; SMTP.SendAsApp needs an app-only token', claimed);
    }
    if (str(claims.iss)?.toLowerCase() !== `https://sts.windows.net/${tenantId.toLowerCase()}/`) {
      return refuse(`token issuer '${String(claims.iss)}' does not match its tenant ${tenantId}`, claimed);
    }

    // 5. How the app is authorized (reference §7). A token carrying SMTP.SendAsApp is judged by the
    // classic model: the role plus, at submission, the mailbox permission (FullAccess). A token without
    // it can still be authorized by RBAC for Applications: an 'Application SMTP.SendAsApp' management
    // role assignment of the service principal (its scope is checked at submission, like FullAccess).
    const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]) : [];
    const model: PermissionModel = roles.includes(SMTP_SEND_AS_APP) ? 'mailbox' : 'rbac';
    if (model === 'rbac') {
      const t = directory.findTenant(tenantId);
      const candidate = t ? directory.findServicePrincipal(t.id, appId, oid) : undefined;
      if (!candidate || !directory.rbacAllowsSmtp(candidate)) {
        const rbac = `, and its service principal has no '${APPLICATION_SMTP_SEND_AS_APP}' management role assignment (RBAC for Applications)`;
        return refuse(
          roles.length === 0
            ? `token has no roles claim: the app ${appId} lacks the ${SMTP_SEND_AS_APP} application permission with admin consent${rbac}`
            : `token roles [${roles.join(', ')}] do not include ${SMTP_SEND_AS_APP}; add it and grant admin consent${rbac}`,
          claimed,
        );
      }
    }

    // 6. Directory: tenant, security defaults, service principal, mailbox, SMTP AUTH switches.
    const tenant = directory.findTenant(tenantId);
    if (!tenant) return refuse(`tenant ${tenantId} is not known to this Exchange organization`, claimed);
    if (tenant.securityDefaults) {
      return {
        ok: false,
        refusal: 'security-defaults',
        reason: `security defaults are enabled for tenant ${tenant.id}; they block SMTP AUTH`,
        identity: claimed,
      };
    }
    const sp = directory.findServicePrincipal(tenant.id, appId, oid);
    if (!sp) {
      return refuse(
        `no service principal registered with New-ServicePrincipal for app ${appId} with object id ${oid}; ` +
          `if one was registered with the app registration's object id instead of the Enterprise Application's, that's the pitfall`,
        claimed,
      );
    }
    const identity: SmtpIdentity = {
      mailbox,
      appId,
      tenantId: tenant.id,
      servicePrincipalObjectId: oid,
      servicePrincipalIdentity: sp.identity,
    };
    const box = directory.findMailbox(mailbox);
    if (!box || box.tenantId !== tenant.id) {
      return refuse(`mailbox '${mailbox}' does not exist in tenant ${tenant.id}`, identity);
    }
    if (!tenant.smtpAuthEnabled && box.smtpAuthEnabled !== true) {
      return {
        ok: false,
        refusal: 'smtp-auth-disabled-tenant',
        reason: `SMTP AUTH is disabled for tenant ${tenant.id} (Set-TransportConfig -SmtpClientAuthenticationDisabled $true)`,
        identity,
      };
    }
    if (!smtpAuthEnabledFor(tenant, box)) {
      return {
        ok: false,
        refusal: 'smtp-auth-disabled-mailbox',
        reason: `SMTP AUTH is disabled for mailbox ${mailbox} (Set-CASMailbox -SmtpClientAuthenticationDisabled $true)`,
        identity,
      };
    }
    models.set(identity, model);
    return {
      ok: true,
      identity,
      reason: `app ${appId} (service principal ${sp.identity}) authenticated for mailbox ${mailbox} (${
        model === 'rbac'
          ? `RBAC for Applications: '${APPLICATION_SMTP_SEND_AS_APP}' role assignment, no roles in the token`
          : `${SMTP_SEND_AS_APP} role in the token`
      })`,
    };
  }

  return {
    authenticate,
    canOpenMailbox(identity) {
      const sp = findServicePrincipal(identity);
      if (!sp) return { ok: false, reason: `service principal for app ${identity.appId} no longer exists` };
      const box = directory.findMailbox(identity.mailbox);
      if (!box) return { ok: false, reason: `mailbox '${identity.mailbox}' no longer exists` };
      if (models.get(identity) === 'rbac') {
        if (!directory.rbacAllowsSmtp(sp, box.address))
          return {
            ok: false,
            reason: `mailbox ${box.address} is outside the management scope of every '${APPLICATION_SMTP_SEND_AS_APP}' assignment of service principal ${sp.identity} (Test-ServicePrincipalAuthorization -Identity ${sp.identity} -Resource ${box.address} shows InScope False)`,
          };
        return {
          ok: true,
          reason: `mailbox ${box.address} is in the management scope of service principal ${sp.identity}'s '${APPLICATION_SMTP_SEND_AS_APP}' assignment`,
        };
      }
      if (!hasFullAccess(box, sp)) {
        const rbacNote = directory.rbacAllowsSmtp(sp, box.address)
          ? `; its RBAC assignment is not consulted because the token carries ${SMTP_SEND_AS_APP}, which triggers the mailbox-permission check`
          : '';
        return {
          ok: false,
          reason: `service principal ${sp.identity} has no FullAccess on ${box.address} (Add-MailboxPermission -Identity ${box.address} -User ${sp.identity} -AccessRights FullAccess)${rbacNote}`,
        };
      }
      return { ok: true, reason: `service principal ${sp.identity} has FullAccess on ${box.address}` };
    },
    canSendAs(identity, fromAddress) {
      const from = fromAddress.trim().toLowerCase();
      if (from === identity.mailbox.toLowerCase()) {
        return { ok: true, reason: `${from} is the authenticated mailbox` };
      }
      const sp = findServicePrincipal(identity);
      if (!sp) return { ok: false, reason: `service principal for app ${identity.appId} no longer exists` };
      const target = directory.findMailbox(from);
      if (!target || target.tenantId !== sp.tenantId) {
        return {
          ok: false,
          reason: `${from} is not a recipient in tenant ${sp.tenantId}; cannot send as it`,
        };
      }
      if (!maySendAs(target, sp)) {
        return {
          ok: false,
          reason: `service principal ${sp.identity} has no SendAs on ${from} (Add-RecipientPermission -Identity ${from} -Trustee ${sp.identity} -AccessRights SendAs)`,
        };
      }
      return { ok: true, reason: `service principal ${sp.identity} has SendAs on ${from}` };
    },
  };
}
