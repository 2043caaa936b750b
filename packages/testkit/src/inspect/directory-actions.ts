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
  | { action: 'setSecurityDefaults'; enabled: boolean };

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
    default:
      throw new Error(`unknown directory action '${(a as { action?: unknown }).action}'`);
  }
}
