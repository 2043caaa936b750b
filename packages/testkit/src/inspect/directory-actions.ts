/**
 * The directory changes the inspection API accepts, one per setup step (or its undoing), named
 * after the admin-guide / PowerShell action they stand for.
 */
import type { TestEnvironment } from '../environment.js';

export type DirectoryAction =
  | {
      action: 'grantAdminConsent' | 'revokeAdminConsent' | 'removeSecrets' | 'removeCertificates';
      clientId?: string;
    }
  | { action: 'addSecret'; clientId?: string; value?: string; expiresAt?: number }
  | { action: 'newServicePrincipal'; appId?: string; objectId?: string }
  | { action: 'removeServicePrincipal'; id?: string }
  | { action: 'addMailbox'; address: string }
  | { action: 'addMailboxPermission' | 'removeMailboxPermission'; mailbox?: string; user?: string }
  | { action: 'addRecipientPermission' | 'removeRecipientPermission'; address: string; trustee?: string }
  | { action: 'setTenantSmtpAuth'; enabled: boolean }
  | { action: 'setMailboxSmtpAuth'; mailbox?: string; enabled: boolean | null }
  | { action: 'setSecurityDefaults'; enabled: boolean }
  | { action: 'addPermission'; clientId?: string; role?: string; adminConsent?: boolean }
  | { action: 'addGroup'; name: string; members?: string[] }
  | { action: 'addGroupMember' | 'removeGroupMember'; group: string; member?: string }
  | { action: 'newManagementScope'; name: string; recipientRestrictionFilter: string }
  | { action: 'removeManagementScope'; name: string }
  | {
      action: 'newManagementRoleAssignment';
      name?: string;
      role?: string;
      app?: string;
      customResourceScope: string;
    }
  | { action: 'removeManagementRoleAssignment'; name: string }
  | { action: 'testServicePrincipalAuthorization'; identity?: string; resource?: string };

/** Applies one action; ids default to the environment's own app, service principal and mailbox. */
export function applyDirectoryAction(env: TestEnvironment, a: DirectoryAction): unknown {
  const d = env.directory;
  const sp = env.servicePrincipal.identity;
  switch (a.action) {
    case 'grantAdminConsent':
      return d.grantAdminConsent(a.clientId ?? env.clientId);
    case 'revokeAdminConsent':
      return d.revokeAdminConsent(a.clientId ?? env.clientId);
    case 'removeSecrets':
      return d.removeSecrets(a.clientId ?? env.clientId);
    case 'removeCertificates':
      return d.removeCertificates(a.clientId ?? env.clientId);
    case 'addSecret': {
      const s = d.addSecret(a.clientId ?? env.clientId, {
        ...(a.value !== undefined && { value: a.value }),
        ...(a.expiresAt !== undefined && { expiresAt: a.expiresAt }),
      });
      return { id: s.id, value: s.value, expiresAt: s.expiresAt };
    }
    case 'newServicePrincipal':
      return d.newServicePrincipal(env.tenantId, {
        appId: a.appId ?? env.clientId,
        objectId: a.objectId ?? env.app.servicePrincipalObjectId,
      });
    case 'removeServicePrincipal':
      return d.removeServicePrincipal(a.id ?? sp);
    case 'addMailbox':
      return d.addMailbox(env.tenantId, a.address);
    case 'addMailboxPermission':
      return d.addMailboxPermission(a.mailbox ?? env.mailbox, a.user ?? sp);
    case 'removeMailboxPermission':
      return d.removeMailboxPermission(a.mailbox ?? env.mailbox, a.user ?? sp);
    case 'addRecipientPermission':
      return d.addRecipientPermission(a.address, a.trustee ?? sp);
    case 'removeRecipientPermission':
      return d.removeRecipientPermission(a.address, a.trustee ?? sp);
    case 'setTenantSmtpAuth':
      return d.setTenantSmtpAuth(env.tenantId, a.enabled);
    case 'setMailboxSmtpAuth':
      return d.setMailboxSmtpAuth(a.mailbox ?? env.mailbox, a.enabled);
    case 'setSecurityDefaults':
      return d.setSecurityDefaults(env.tenantId, a.enabled);
    case 'addPermission':
      return d.addPermission(a.clientId ?? env.clientId, {
        ...(a.role !== undefined && { role: a.role }),
        ...(a.adminConsent !== undefined && { adminConsent: a.adminConsent }),
      });
    case 'addGroup':
      return d.addGroup(env.tenantId, { name: a.name, ...(a.members && { members: a.members }) });
    case 'addGroupMember':
      return d.addGroupMember(a.group, a.member ?? env.mailbox);
    case 'removeGroupMember':
      return d.removeGroupMember(a.group, a.member ?? env.mailbox);
    case 'newManagementScope':
      return d.newManagementScope(env.tenantId, {
        name: a.name,
        recipientRestrictionFilter: a.recipientRestrictionFilter,
      });
    case 'removeManagementScope':
      return d.removeManagementScope(env.tenantId, a.name);
    case 'newManagementRoleAssignment':
      return d.newManagementRoleAssignment(env.tenantId, {
        app: a.app ?? env.clientId,
        customResourceScope: a.customResourceScope,
        ...(a.name !== undefined && { name: a.name }),
        ...(a.role !== undefined && { role: a.role }),
      });
    case 'removeManagementRoleAssignment':
      return d.removeManagementRoleAssignment(env.tenantId, a.name);
    case 'testServicePrincipalAuthorization':
      // By app id by default: the service principal may have been re-created under a new identity.
      return d.testServicePrincipalAuthorization(a.identity ?? env.clientId, a.resource ?? env.mailbox);
    default:
      throw new Error(`unknown directory action '${(a as { action?: unknown }).action}'`);
  }
}
