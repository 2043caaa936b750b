/**
 * The doctor's view of an access token, built on {@link inspectAccessToken}: the findings plus the
 * few claims the AUTH step and the fixes need. Never holds the token.
 */
import {
  inspectAccessToken,
  SMTP_SEND_AS_APP_ROLE,
  type TokenFinding,
  type TokenInspection,
} from '../tokens/inspect.js';

export interface ClaimsView {
  inspection: TokenInspection;
  /** False when the token is not a JWT. */
  decoded: boolean;
  audience: string | undefined;
  audienceOk: boolean;
  roles: string[];
  /** The roles check passed (under RBAC for Applications: also without roles). */
  roleOk: boolean;
  /** The token carries SMTP.SendAsApp (Exchange then checks the mailbox permission). */
  hasSendAsApp: boolean;
  tenantId: string | undefined;
  appId: string | undefined;
  /** The Enterprise Application's object id (`oid`): what New-ServicePrincipal needs. */
  objectId: string | undefined;
  expiresAt: number | undefined;
  finding(check: TokenFinding['check']): TokenFinding | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function readClaims(
  accessToken: string,
  options: { tenant?: string; now: () => number; permissionModel?: 'mailbox' | 'rbac' },
): ClaimsView {
  const inspection = inspectAccessToken(accessToken, {
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.permissionModel ? { permissionModel: options.permissionModel } : {}),
    now: options.now,
  });
  const claims = inspection.claims ?? {};
  const find = (check: TokenFinding['check']) => inspection.findings.find((f) => f.check === check);
  const aud = Array.isArray(claims.aud) ? str(claims.aud[0]) : str(claims.aud);
  return {
    inspection,
    decoded: inspection.claims !== undefined,
    audience: aud,
    audienceOk: find('audience')?.ok ?? false,
    roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [],
    roleOk: find('roles')?.ok ?? false,
    hasSendAsApp: Array.isArray(claims.roles) && claims.roles.includes(SMTP_SEND_AS_APP_ROLE),
    tenantId: str(claims.tid),
    appId: str(claims.appid) ?? str(claims.azp),
    objectId: str(claims.oid),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
    finding: find,
  };
}
