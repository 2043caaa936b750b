import { cloudOfScope } from '../config/cloud.js';
import { adminConsentUrl } from '../errors/context.js';
import { smtpScope, smtpScopesOfAllClouds, tokenEndpointUrl } from '../setup/builders.js';
import { isGuid } from '../config/microsoft.js';
import { decodeJwt } from '../internal/jwt.js';

/** Audiences (resources) Exchange Online accepts for SMTP AUTH, plus its first-party app id. */
export const exchangeAudiences: readonly string[] = Object.freeze([
  'https://outlook.office365.com',
  'https://outlook.office.com',
  'https://outlook.office365.us',
  'https://partner.outlook.cn',
  '00000002-0000-0ff1-ce00-000000000000',
]);

/** The application permission Exchange requires in `roles`. */
export const SMTP_SEND_AS_APP_ROLE = 'SMTP.SendAsApp';

/** Name of one check {@link inspectAccessToken} makes. */
export type TokenCheck =
  | 'format'
  | 'audience'
  | 'roles'
  | 'tenant'
  | 'expiry'
  | 'app-only'
  | 'credential-type';

/** The outcome of one check: what was found and, when it failed, how to fix it. */
export interface TokenFinding {
  check: TokenCheck;
  ok: boolean;
  /** A passed check that still deserves attention (e.g. roles present under RBAC for Applications). */
  warning?: boolean;
  message: string;
  /** How to fix a failed check, or act on a warning. */
  fix?: string;
}

/** Result of {@link inspectAccessToken}. Never contains the token or its signature. */
export interface TokenInspection {
  /** True when every check passed. */
  ok: boolean;
  /** The decoded JOSE header; `undefined` when the token is not a JWT. */
  header?: Record<string, unknown>;
  /** The decoded claims, NOT verified; `undefined` when the token is not a JWT. */
  claims?: Record<string, unknown>;
  findings: TokenFinding[];
}

/** Options of {@link inspectAccessToken}. */
export interface InspectAccessTokenOptions {
  /** The audience the token must have, e.g. `https://outlook.office365.com`. Default: any Exchange audience. */
  expectedAudience?: string;
  /** Tenant id (GUID) or domain the token must be from. */
  tenant?: string;
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Tolerated clock skew for `exp`/`nbf`. @default 0 */
  clockSkewMs?: number;
  /**
   * How Exchange authorizes the app. Under `rbac` (RBAC for Applications) a token without `roles`
   * is expected, and one carrying `SMTP.SendAsApp` is a warning: that claim makes Exchange check
   * the mailbox permission (FullAccess) instead of the role assignment's scope. Source:
   * Microsoft, "SMTP Onboarding to App RBAC" (2025-10-17).
   * @default 'mailbox'
   */
  permissionModel?: 'mailbox' | 'rbac';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const normalizeAud = (a: string) => a.trim().replace(/\/+$/, '').toLowerCase();

/**
 * Decodes an access token (without verifying its signature) and checks what Exchange Online checks
 * for SMTP AUTH: audience, the `SMTP.SendAsApp` role, tenant, expiry, and that it is an app-only
 * token; also reports which credential type obtained it (`appidacr`). Never throws: a token that
 * cannot be decoded yields a failed `format` finding.
 *
 * @remarks The token is only read, never logged or returned.
 */
export function inspectAccessToken(token: string, options: InspectAccessTokenOptions = {}): TokenInspection {
  const nowMs = (options.now ?? Date.now)();
  const skew = options.clockSkewMs ?? 0;
  const decoded = typeof token === 'string' ? decodeJwt(token.trim().replace(/^Bearer\s+/i, '')) : undefined;
  if (!decoded) {
    return {
      ok: false,
      findings: [
        {
          check: 'format',
          ok: false,
          message:
            'The access token is not a JWT (three base64url parts with JSON header and claims); it cannot be inspected.',
          fix: `Exchange Online expects a JWT issued by Entra ID for the scope ${smtpScopesOfAllClouds()}; check the token endpoint and scope.`,
        },
      ],
    };
  }
  const { header, payload: claims } = decoded;
  const findings: TokenFinding[] = [
    { check: 'format', ok: true, message: `JWT, ${str(header.alg) ?? 'unknown alg'}` },
  ];
  const tid = str(claims.tid);
  const appId = str(claims.appid) ?? str(claims.azp);
  // The audience names the cloud (outlook.office365.us → GCC High): consent URL and scope follow it.
  const audience = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).find(
    (a): a is string => typeof a === 'string',
  );
  const consentCtx = {
    ...(tid ? { tenant: tid } : {}),
    ...(appId ? { clientId: appId } : {}),
    ...(audience ? { scope: audience } : {}),
  };

  // Audience
  const auds = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  if (options.expectedAudience) {
    const expected = normalizeAud(options.expectedAudience);
    const ok = auds.some((a) => normalizeAud(a) === expected);
    findings.push({
      check: 'audience',
      ok,
      message: ok
        ? `Audience is ${options.expectedAudience}`
        : `Audience is ${auds.join(', ') || '(none)'}, expected ${options.expectedAudience}`,
      ...(ok
        ? {}
        : { fix: `Request the token with scope ${options.expectedAudience.replace(/\/+$/, '')}/.default.` }),
    });
  } else {
    const accepted = new Set(exchangeAudiences.map(normalizeAud));
    const ok = auds.some((a) => accepted.has(normalizeAud(a)));
    const graph = auds.some((a) => /graph\.microsoft|microsoftgraph/i.test(a));
    findings.push({
      check: 'audience',
      ok,
      message: ok
        ? `Audience ${auds.join(', ')} is an Exchange Online resource`
        : `Audience ${auds.join(', ') || '(none)'} is not an Exchange Online resource${graph ? ' (it is Microsoft Graph)' : ''}; Exchange answers 535 5.7.3`,
      ...(ok
        ? {}
        : {
            fix:
              audience && cloudOfScope(audience)
                ? `Use scope ${smtpScope({ cloud: cloudOfScope(audience) })}.`
                : `Use scope ${smtpScopesOfAllClouds()}.`,
          }),
    });
  }

  // Roles
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const hasRole = roles.includes(SMTP_SEND_AS_APP_ROLE);
  if (options.permissionModel === 'rbac') findings.push(rbacRolesFinding(hasRole, roles, appId));
  else
    findings.push({
      check: 'roles',
      ok: hasRole,
      message: hasRole
        ? `roles contains ${SMTP_SEND_AS_APP_ROLE}`
        : roles.length === 0
          ? `The token has no roles claim: admin consent for ${SMTP_SEND_AS_APP_ROLE} is missing`
          : `roles (${roles.join(', ')}) does not contain ${SMTP_SEND_AS_APP_ROLE}`,
      ...(hasRole
        ? {}
        : {
            fix: `Add the application permission Office 365 Exchange Online > ${SMTP_SEND_AS_APP_ROLE} and grant admin consent: ${adminConsentUrl(consentCtx)} — or, if the tenant authorizes the app with RBAC for Applications (no API permission), set auth.permissionModel to 'rbac'.`,
          }),
    });

  // Tenant
  if (options.tenant) {
    const wanted = options.tenant.trim().toLowerCase();
    if (isGuid(wanted)) {
      const ok = tid?.toLowerCase() === wanted;
      findings.push({
        check: 'tenant',
        ok,
        message: ok
          ? `Tenant ${tid}`
          : `Token is from tenant ${tid ?? '(no tid)'}, expected ${options.tenant}`,
        ...(ok
          ? {}
          : {
              fix: `Use the token endpoint of your own tenant: ${tokenEndpointUrl({ cloud: audience ? cloudOfScope(audience) : undefined })}.`,
            }),
      });
    } else {
      findings.push({
        check: 'tenant',
        ok: true,
        message: `Tenant given as domain ${options.tenant}; the token's tenant id is ${tid ?? '(no tid)'} (a domain cannot be compared offline)`,
      });
    }
  }

  // Expiry
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  const nbf = typeof claims.nbf === 'number' ? claims.nbf * 1000 : undefined;
  if (exp === undefined) {
    findings.push({
      check: 'expiry',
      ok: false,
      message: 'The token has no exp claim',
      fix: 'Use a token issued by Entra ID.',
    });
  } else if (exp + skew <= nowMs) {
    findings.push({
      check: 'expiry',
      ok: false,
      message: `The token expired at ${new Date(exp).toISOString()}`,
      fix: 'Fetch a new token; cache tokens and refresh them at least 5 minutes before they expire.',
    });
  } else if (nbf !== undefined && nbf - skew > nowMs) {
    findings.push({
      check: 'expiry',
      ok: false,
      message: `The token is not valid before ${new Date(nbf).toISOString()}`,
      fix: "Synchronise this machine's clock (NTP).",
    });
  } else {
    findings.push({ check: 'expiry', ok: true, message: `Valid until ${new Date(exp).toISOString()}` });
  }

  // App-only
  const userClaims = ['upn', 'unique_name', 'scp'].filter((c) => claims[c] !== undefined);
  const idtyp = str(claims.idtyp);
  const appOnly = userClaims.length === 0 && (idtyp === undefined || idtyp === 'app');
  findings.push({
    check: 'app-only',
    ok: appOnly,
    message: appOnly
      ? `App-only token${idtyp ? ' (idtyp app)' : ''}`
      : `Delegated (user) token: has ${[...userClaims, ...(idtyp && idtyp !== 'app' ? [`idtyp ${idtyp}`] : [])].join(', ')}`,
    ...(appOnly
      ? {}
      : {
          fix: 'Use the client-credentials flow (application permission SMTP.SendAsApp), not a user sign-in.',
        }),
  });

  // Credential type (informational)
  const acr = str(claims.appidacr) ?? str(claims.azpacr);
  const credential =
    acr === '1'
      ? 'a client secret'
      : acr === '2'
        ? 'a certificate'
        : acr === '0'
          ? 'no credential (public client)'
          : undefined;
  findings.push({
    check: 'credential-type',
    ok: acr !== '0',
    message: credential
      ? `Obtained with ${credential} (appidacr ${acr})`
      : 'Credential type unknown (no appidacr/azpacr claim)',
    ...(acr === '0' ? { fix: 'Authenticate the app with a client secret or certificate.' } : {}),
  });

  return { ok: findings.every((f) => f.ok), header, claims, findings };
}

/** The roles check under RBAC for Applications: no roles is right; SMTP.SendAsApp is a warning. */
function rbacRolesFinding(hasRole: boolean, roles: string[], appId: string | undefined): TokenFinding {
  if (!hasRole)
    return {
      check: 'roles',
      ok: true,
      message:
        roles.length === 0
          ? "No roles claim, as RBAC for Applications expects: Exchange authorizes the app by its 'Application SMTP.SendAsApp' role assignment"
          : `roles (${roles.join(', ')}) without ${SMTP_SEND_AS_APP_ROLE}, as RBAC for Applications expects`,
    };
  return {
    check: 'roles',
    ok: true,
    warning: true,
    message: `The token carries ${SMTP_SEND_AS_APP_ROLE} although the tenant uses RBAC for Applications: that claim makes Exchange check the mailbox permission (FullAccess), not the role assignment's scope`,
    fix: `Remove the application permission Office 365 Exchange Online > ${SMTP_SEND_AS_APP_ROLE}${appId ? ` from app ${appId}` : ''} (and its admin consent), or give the service principal FullAccess on the mailbox (Add-MailboxPermission).`,
  };
}
