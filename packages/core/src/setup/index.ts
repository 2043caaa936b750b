/**
 * Browser-safe setup entry (`@org/core/setup`): the Microsoft 365 setup steps as fixes — Exchange
 * Online PowerShell commands and portal links with the user's own ids — as the doctor prints them.
 * A setup guide builds on these, so the guide and a failing diagnostics step show the same text.
 * Nothing here may import `node:*` or Node-only packages; the admin UI bundles it.
 */
export {
  adminConsentUrl,
  type FixSource,
  type FixValues,
  fixes,
  fixValues,
} from './fixes.js';
export {
  APPLICATION_SMTP_SEND_AS_APP_ROLE,
  type PermissionModel,
  permissionModelComparison,
  RBAC_DOC,
  type RbacNames,
  rbacCommands,
  rbacFixes,
} from './rbac.js';
export {
  cloudSummary,
  consentUrl,
  powershell,
  type SetupTarget,
  smtpScope,
  smtpScopesOfAllClouds,
  tokenEndpointUrl,
} from './builders.js';
export type { DiagnosticFix, DiagnosticLink } from './types.js';
