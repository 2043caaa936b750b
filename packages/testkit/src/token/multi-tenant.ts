/**
 * Multi-tenant apps (reference §8, Entra blog "Service principal required"): an app registered in
 * one tenant gets tokens in another only where it has a service principal (Enterprise application)
 * there — created when that tenant's admin consents. Since 31 March 2026 Entra refuses the rest
 * with AADSTS7000229.
 */

export interface MultiTenantApps {
  /** Marks an app multi-tenant ("Accounts in any organizational directory"). */
  allow(clientId: string): void;
  /** Creates the app's service principal in a tenant (what admin consent there does). */
  addServicePrincipal(clientId: string, tenantId: string): void;
  /** Deletes it again (Enterprise applications → Delete). */
  removeServicePrincipal(clientId: string, tenantId: string): void;
  isMultiTenant(clientId: string): boolean;
  hasServicePrincipal(clientId: string, tenantId: string): boolean;
  clear(): void;
}

export function createMultiTenantApps(): MultiTenantApps {
  const apps = new Set<string>();
  const principals = new Set<string>();
  const key = (clientId: string, tenantId: string) => `${clientId.toLowerCase()}|${tenantId.toLowerCase()}`;
  return {
    allow: (clientId) => void apps.add(clientId.toLowerCase()),
    addServicePrincipal: (clientId, tenantId) => void principals.add(key(clientId, tenantId)),
    removeServicePrincipal: (clientId, tenantId) => void principals.delete(key(clientId, tenantId)),
    isMultiTenant: (clientId) => apps.has(clientId.toLowerCase()),
    hasServicePrincipal: (clientId, tenantId) => principals.has(key(clientId, tenantId)),
    clear() {
      apps.clear();
      principals.clear();
    },
  };
}
