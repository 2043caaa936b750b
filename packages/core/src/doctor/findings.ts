/**
 * Turns what a step observed (a token endpoint error, token claims, an SMTP reply) into ranked
 * causes and the admin-guide fix, written with the user's values.
 */
import type { EmailServerConfig } from '../config/schema.js';
import { isGuid, isMicrosoftHost } from '../config/microsoft.js';
import type { CertificateCredential } from '../credentials/index.js';
import { errorFromNetwork } from '../errors/network-errors.js';
import { errorFromSmtpReply } from '../errors/smtp-errors.js';
import { isSmtpOAuthError, type SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import { SMTP_SEND_AS_APP_ROLE } from '../tokens/inspect.js';
import { type ClaimsView, readClaims } from './claims.js';
import { type FixValues, fixes } from '../setup/fixes.js';
import { type PermissionModel, rbacFixes } from '../setup/rbac.js';
import type { SmtpReply } from './smtp-dialogue.js';
import type { DiagnosticFix } from './types.js';
import { errorText, inMinutes, iso, MIN_TOKEN_LIFETIME_MS, mergeFixes, type Outcome } from './util.js';

/** The permission model an entry declares; `undefined` when it does not say (treated as `mailbox`). */
export function declaredPermissionModel(c: EmailServerConfig): PermissionModel | undefined {
  return c.auth.type === 'oauth2' ? c.auth.permissionModel : undefined;
}

/** The classic "use OAuth2" advice plus the one command that converts the entry. */
export function moveToOAuth2Fix(v: FixValues): DiagnosticFix {
  const base = fixes.passwordAuth(v);
  return {
    ...base,
    summary: `${base.summary} \`smtp-oauth config migrate\` (or "Move to OAuth2" in the WebAdmin) converts this entry, keeping host, port and mailbox, and asks only for the tenant, the client ID and the credential.`,
    commands: [
      ...(base.commands ?? []),
      'smtp-oauth config migrate --tenant <TENANT_ID> --client-id <CLIENT_ID>',
    ],
  };
}

/**
 * Exchange accepted a token without SMTP.SendAsApp while the entry does not declare RBAC: the tenant
 * authorizes the app with RBAC for Applications (reference §7). Returns what the doctor says then.
 */
export function rbacInferred(
  c: EmailServerConfig,
  claims: ClaimsView | undefined,
): { causes: string[]; fix: DiagnosticFix } | undefined {
  if (c.auth.type !== 'oauth2' || !claims || claims.hasSendAsApp || declaredPermissionModel(c) === 'rbac')
    return undefined;
  return {
    causes: [
      "Exchange accepted a token without the SMTP.SendAsApp role: this tenant authorizes the app with RBAC for Applications (inferred from the AUTH result). A token without roles is right for that model; set auth.permissionModel to 'rbac' so the checks and fixes follow it.",
    ],
    fix: {
      summary: "Declare the tenant's permission model in this entry: auth.permissionModel 'rbac'.",
      commands: ['"permissionModel": "rbac"'],
    },
  };
}

export function describeChallenge(blob: string): string {
  const text = Buffer.from(blob, 'base64').toString('utf8').trim();
  try {
    const json = JSON.parse(text) as { status?: unknown; scope?: unknown };
    return [
      json.status !== undefined ? `status ${String(json.status)}` : undefined,
      json.scope !== undefined ? `scope ${String(json.scope)}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
  } catch {
    return text.slice(0, 200);
  }
}

export function tokenFailure(
  err: unknown,
  v: FixValues,
  certificate: CertificateCredential | undefined,
  keep: (e: SmtpOAuthError) => void,
): Outcome {
  const e = isSmtpOAuthError(err) ? err : errorFromNetwork(err);
  if (!e) return { status: 'fail', evidence: [errorText(err)] };
  keep(e);
  const d = e.details as Record<string, unknown>;
  const evidence: string[] = [];
  if (typeof d.status === 'number') {
    const head = `HTTP ${d.status}${typeof d.error === 'string' ? ` ${d.error}` : ''}`;
    evidence.push(typeof d.description === 'string' ? `${head}: ${d.description}` : `${head}: ${e.message}`);
    if (typeof d.traceId === 'string') evidence.push(`Trace ID: ${d.traceId}`);
    if (typeof d.correlationId === 'string') evidence.push(`Correlation ID: ${d.correlationId}`);
  } else evidence.push(e.message);
  evidence.push(`error code ${e.code}`);
  const thumbprint = certificate?.thumbprintSha1;
  switch (e.code) {
    case 'TOKEN_INVALID_CLIENT_SECRET':
      return {
        status: 'fail',
        evidence,
        // Entra's reply says only "invalid secret": both causes are guesses. Validation already refused
        // a GUID (the secret's ID), quotes, edge white space and invisible characters
        // (config/paste-damage.ts), so those are not listed.
        causes: [
          'Most likely the Value was mistyped or copied incompletely.',
          `Possibly the secret was deleted or rotated in app ${v.clientId}, or belongs to another app registration.`,
        ],
        fix: fixes.newSecret(v, false),
      };
    case 'TOKEN_CLIENT_SECRET_EXPIRED':
      return {
        status: 'fail',
        evidence,
        causes: [`The client secrets of app ${v.clientId} have expired.`],
        fix: fixes.newSecret(v, true),
      };
    case 'TOKEN_APP_NOT_FOUND':
    case 'TOKEN_TENANT_NOT_FOUND':
      return {
        status: 'fail',
        evidence,
        causes: [
          e.code === 'TOKEN_APP_NOT_FOUND'
            ? `No application ${v.clientId} in tenant ${v.tenant}: wrong client id, or the token endpoint names another tenant.`
            : `Tenant ${v.tenant} does not exist in this cloud.`,
          'The app was registered in another tenant and never consented in this one.',
        ],
        fix: fixes.appIds(v),
      };
    case 'TOKEN_INVALID_SCOPE':
    case 'TOKEN_SCOPE_NOT_VALID':
    case 'TOKEN_RESOURCE_NOT_FOUND':
      return {
        status: 'fail',
        evidence,
        causes: [
          `The scope ${v.scope ?? ''} is not valid for client credentials; SMTP needs ${v.expectedScope}.`.replace(
            '  ',
            ' ',
          ),
        ],
        fix: fixes.scope(v),
      };
    case 'TOKEN_CERTIFICATE_NOT_REGISTERED':
      return {
        status: 'fail',
        evidence,
        causes: [
          `The certificate is not uploaded to app ${v.clientId} (or another certificate is configured here).`,
          'The certificate was removed or replaced in the app registration.',
        ],
        fix: fixes.certificate(v, thumbprint),
      };
    case 'TOKEN_ASSERTION_TIME_INVALID':
      return {
        status: 'fail',
        evidence,
        causes: ["This machine's clock is off."],
        fix: { summary: "Synchronise this machine's clock (NTP)." },
      };
    case 'CREDENTIAL_EXPIRED':
      return {
        status: 'fail',
        evidence,
        causes: ['The client certificate has expired.'],
        fix: fixes.certificate(v, thumbprint),
      };
    default:
      return {
        status: 'fail',
        evidence,
        causes: [e.message],
        fix: { summary: e.hint },
      };
  }
}

export function inspectClaims(
  token: string,
  c: EmailServerConfig,
  v: FixValues,
  now: () => number,
  keep: (claims: ClaimsView) => void,
): Outcome {
  const exchange = isMicrosoftHost(c.host) || (c.auth.type === 'oauth2' && c.auth.provider === 'entra');
  const model = declaredPermissionModel(c);
  const claims = readClaims(token, {
    ...(isGuid(v.tenant) ? { tenant: v.tenant } : {}),
    ...(model ? { permissionModel: model } : {}),
    now,
  });
  if (!claims.decoded)
    return {
      status: exchange ? 'warn' : 'ok',
      evidence: ['The access token is not a JWT (opaque): its claims cannot be inspected.'],
      ...(exchange
        ? {
            causes: [
              'Entra issues JWT access tokens for Exchange; an opaque token suggests another provider.',
            ],
          }
        : {}),
    };
  keep(claims);
  v.servicePrincipalObjectId = claims.objectId;
  const evidence = [
    `aud: ${claims.audience ?? '(none)'}`,
    `roles: ${claims.roles.length ? claims.roles.join(', ') : '(none)'}`,
    `tid: ${claims.tenantId ?? '(none)'}`,
    `appid: ${claims.appId ?? '(none)'}`,
    `oid (Enterprise Application object id): ${claims.objectId ?? '(none)'}`,
    claims.expiresAt !== undefined
      ? `exp: ${iso(claims.expiresAt)} (in ${inMinutes(claims.expiresAt - now())})`
      : 'exp: (none)',
    ...(model === 'rbac' ? ['permission model: RBAC for Applications (auth.permissionModel rbac)'] : []),
    ...claims.inspection.findings.map(
      (f) => `${f.ok ? (f.warning ? '!' : '✓') : '✗'} ${f.check}: ${f.message}`,
    ),
  ];
  if (!exchange) return { status: 'ok', evidence };
  const causes: string[] = [];
  const stepFixes: DiagnosticFix[] = [];
  let status: Outcome['status'] = 'ok';
  // Roles are granted per resource: a token for the wrong audience (e.g. Graph) lacks SMTP.SendAsApp
  // whatever was consented, so a missing role is a follow-on of the scope, not a second cause.
  const wrongAudience = claims.inspection.findings.some((f) => !f.ok && f.check === 'audience');
  for (const f of claims.inspection.findings) {
    if (f.ok && f.warning && f.check === 'roles') {
      // RBAC tenant, token with SMTP.SendAsApp: Exchange will check FullAccess, not the scope.
      if (status === 'ok') status = 'warn';
      causes.push(`${f.message}.`);
      stepFixes.push(rbacFixes.removeApiPermission(v));
      continue;
    }
    if (f.ok) continue;
    status = 'fail';
    if (f.check === 'roles' && wrongAudience) {
      evidence.push(`(${f.message}: follows from the wrong audience; fix the scope first)`);
    } else if (f.check === 'roles') {
      causes.push(
        `${f.message}. Without the ${SMTP_SEND_AS_APP_ROLE} application permission and admin consent, Exchange answers 535 5.7.3.`,
        `If this tenant authorizes the app with RBAC for Applications instead (no API permission, a management role assignment), set auth.permissionModel to 'rbac'.`,
      );
      stepFixes.push(fixes.adminConsent(v));
    } else if (f.check === 'audience') {
      causes.push(`${f.message}: the scope is wrong.`);
      stepFixes.push(fixes.scope(v));
    } else {
      causes.push(f.message);
      if (f.fix) stepFixes.push({ summary: f.fix });
    }
  }
  if (claims.appId && claims.appId.toLowerCase() !== v.clientId.toLowerCase()) {
    status = 'fail';
    causes.push(`The token was issued to app ${claims.appId}, not the configured client id ${v.clientId}.`);
  }
  if (
    status !== 'fail' &&
    claims.expiresAt !== undefined &&
    claims.expiresAt - now() < MIN_TOKEN_LIFETIME_MS
  ) {
    status = 'warn';
    causes.push(`The token expires in ${inMinutes(claims.expiresAt - now())}.`);
  }
  const fix = mergeFixes(stepFixes);
  return { status, evidence, ...(causes.length ? { causes } : {}), ...(fix ? { fix } : {}) };
}

export function authFailure(
  reply: SmtpReply,
  evidence: string[],
  c: EmailServerConfig,
  v: FixValues,
  claims: ClaimsView | undefined,
): Outcome {
  const exchange = isMicrosoftHost(c.host) || (c.auth.type === 'oauth2' && c.auth.provider === 'entra');
  const e = errorFromSmtpReply(
    {
      code: reply.code,
      response: reply.lines.join('\n'),
      command: 'AUTH',
      server: exchange ? 'exchange' : 'other',
    },
    {
      mailbox: c.user,
      clientId: v.clientId,
      tenant: v.tenant,
      from: v.from,
    },
  );
  const withCode = [...evidence, `error code ${e.code}`];
  switch (e.code) {
    case 'SMTP_AUTH_REJECTED': {
      if (!exchange)
        return {
          status: 'fail',
          evidence: withCode,
          causes: [
            'The server refused the credentials: check the scope the provider requires for SMTP, that the account may use SMTP, and the mailbox name.',
          ],
          fix: { summary: e.hint },
        };
      const noRole = claims !== undefined && !claims.roleOk;
      const wrongAudience = claims !== undefined && !claims.audienceOk;
      const spCause = `The app's service principal is not registered in Exchange Online, or was registered with the app registration's object id instead of the Enterprise Application's${claims?.objectId ? ` (${claims.objectId})` : ''}.`;
      const consentCause = `Admin consent for Office 365 Exchange Online > ${SMTP_SEND_AS_APP_ROLE} is missing (the token has no roles).`;
      const scopeCause = `The token's audience is ${claims?.audience ?? 'wrong'} (scope ${v.scope}); Exchange needs ${v.expectedScope}.`;
      const mailboxCause = `The mailbox ${c.user} (the XOAUTH2 user) does not exist in the token's tenant.`;
      if (!wrongAudience && declaredPermissionModel(c) === 'rbac' && !claims?.hasSendAsApp)
        return {
          status: 'fail',
          evidence: withCode,
          causes: [
            `The app's service principal has no 'Application SMTP.SendAsApp' management role assignment (RBAC for Applications): the token carries no roles, so Exchange looks for one.`,
            spCause,
            mailboxCause,
          ],
          fix: rbacFixes.roleAssignment(v),
        };
      // The other causes are follow-ons of the wrong audience (roles are per resource): only the
      // scope is named, so nobody asks a Global Administrator for a consent that is not missing.
      if (wrongAudience)
        return {
          status: 'fail',
          evidence: withCode,
          causes: [scopeCause],
          fix: fixes.scope(v),
        };
      if (noRole)
        return {
          status: 'fail',
          evidence: withCode,
          causes: [consentCause, spCause, mailboxCause],
          fix: fixes.adminConsent(v),
        };
      return {
        status: 'fail',
        evidence: withCode,
        causes: [spCause, mailboxCause, 'The token expired between acquisition and AUTH (clock skew).'],
        fix: fixes.servicePrincipal(v),
      };
    }
    case 'SMTP_AUTH_DISABLED': {
      const tenant = e.details.disabledFor === 'tenant';
      return {
        status: 'fail',
        evidence: withCode,
        causes: [
          tenant
            ? 'SMTP AUTH is disabled for the whole tenant (Set-TransportConfig) and not enabled for the mailbox.'
            : `SMTP AUTH is disabled for the mailbox ${c.user} (Set-CASMailbox).`,
        ],
        fix: tenant ? fixes.smtpAuthTenant(v) : fixes.smtpAuthMailbox(v),
      };
    }
    case 'SMTP_SECURITY_DEFAULTS':
      return {
        status: 'fail',
        evidence: withCode,
        causes: ["The tenant's security defaults block SMTP AUTH."],
        fix: fixes.securityDefaults(),
      };
    case 'SMTP_BASIC_AUTH_DISABLED':
      return {
        status: 'fail',
        evidence: withCode,
        causes: ['Exchange Online refuses password (basic) authentication.'],
        fix: moveToOAuth2Fix(v),
      };
    default:
      return { status: 'fail', evidence: withCode, causes: [e.message], fix: { summary: e.hint } };
  }
}

export function smtpRefusal(
  reply: SmtpReply,
  evidence: string[],
  c: EmailServerConfig,
  v: FixValues,
  stage: string,
  claims?: ClaimsView,
): Outcome {
  const e = errorFromSmtpReply(
    { code: reply.code, response: reply.lines.join('\n'), command: stage },
    {
      mailbox: c.user,
      from: v.from,
    },
  );
  const withCode = [...evidence, `error code ${e.code}`];
  switch (e.code) {
    case 'SMTP_MAILBOX_LOGON_FAILED':
      if (declaredPermissionModel(c) === 'rbac')
        return claims?.hasSendAsApp
          ? {
              status: 'fail',
              evidence: withCode,
              causes: [
                `The token carries ${SMTP_SEND_AS_APP_ROLE}, so Exchange checks the mailbox permission (FullAccess) on ${c.user} instead of the RBAC role assignment, and the service principal has none.`,
              ],
              fix: rbacFixes.removeApiPermission(v),
            }
          : {
              status: 'fail',
              evidence: withCode,
              causes: [
                `The mailbox ${c.user} is outside the management scope of the app's 'Application SMTP.SendAsApp' role assignment (RBAC for Applications).`,
              ],
              fix: rbacFixes.mailboxInScope(v),
            };
      return {
        status: 'fail',
        evidence: withCode,
        causes: [
          `The service principal has no FullAccess permission on the mailbox ${c.user} (Add-MailboxPermission was not run, or for another service principal).`,
        ],
        fix: fixes.mailboxPermission(v),
      };
    case 'SMTP_SEND_AS_DENIED':
      return {
        status: 'fail',
        evidence: withCode,
        causes: [`The app may not send as ${v.from}: no SendAs right on that address.`],
        fix: fixes.sendAs(v),
      };
    case 'SMTP_NOT_AUTHENTICATED':
      return {
        status: 'fail',
        evidence: withCode,
        causes: ['The server requires authentication before MAIL FROM.'],
        fix: { summary: 'Configure OAuth2 authentication for the entry.' },
      };
    default:
      return {
        status: 'fail',
        evidence: withCode,
        causes: [`The server refused ${stage}: ${e.message}`],
        fix: { summary: e.hint },
      };
  }
}
