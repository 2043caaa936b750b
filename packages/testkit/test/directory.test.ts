import { describe, expect, it } from 'vitest';
import {
  createDirectory,
  DirectoryError,
  hasFullAccess,
  maySendAs,
  smtpAuthEnabledFor,
} from '../src/directory/index.js';
import { createClientCertificate } from '../src/pki/index.js';

describe('directory', () => {
  it('finds tenants by GUID or verified domain, case-insensitively; refuses non-GUID ids', () => {
    const d = createDirectory();
    const t = d.addTenant({ domains: ['Contoso.onmicrosoft.com'] });
    expect(d.findTenant(t.id.toUpperCase())).toBe(t);
    expect(d.findTenant('CONTOSO.onmicrosoft.com')).toBe(t);
    expect(d.findTenant('fabrikam.onmicrosoft.com')).toBeUndefined();
    expect(() => d.addTenant({ id: 'contoso' })).toThrow(DirectoryError);
    expect(() => d.registerApp('nope')).toThrow(DirectoryError);
  });

  it('app registrations have distinct app object id and Enterprise Application object id', () => {
    const d = createDirectory();
    const t = d.addTenant();
    const app = d.registerApp(t.id, { displayName: 'Mailer' });
    expect(app.appObjectId).not.toBe(app.servicePrincipalObjectId);
    expect(d.findApp(app.clientId.toUpperCase())).toBe(app);
    d.removeApp(app.clientId);
    expect(d.findApp(app.clientId)).toBeUndefined();
  });

  it('secrets: Entra-shaped values, id distinct from value, default expiry from the injected clock', () => {
    let now = Date.UTC(2026, 0, 1);
    const d = createDirectory({ now: () => now });
    const app = d.registerApp(d.addTenant().id);
    const s = d.addSecret(app.clientId);
    expect(s.value).toMatch(/^.{3}8Q~.{34}$/);
    expect(s.value).not.toBe(s.id);
    expect(s.expiresAt).toBe(now + 730 * 86_400_000);
    now += 1;
    d.removeSecrets(app.clientId);
    expect(d.findApp(app.clientId)?.secrets).toEqual([]);
  });

  it('certificates are registered with their thumbprints; garbage is refused', () => {
    const d = createDirectory();
    const app = d.registerApp(d.addTenant().id);
    const cert = createClientCertificate();
    const reg = d.addCertificate(app.clientId, cert.certificatePem);
    expect(reg).toMatchObject({
      thumbprintSha1: cert.thumbprintSha1,
      thumbprintSha256: cert.thumbprintSha256,
    });
    expect(() => d.addCertificate(app.clientId, 'not a cert')).toThrow();
  });

  it('grantedRoles: only with admin consent; Exchange host names count as one resource', () => {
    const d = createDirectory();
    const app = d.registerApp(d.addTenant().id);
    d.addPermission(app.clientId);
    expect(d.grantedRoles(app.clientId, 'https://outlook.office365.com')).toEqual([]);
    d.grantAdminConsent(app.clientId);
    expect(d.grantedRoles(app.clientId, 'https://outlook.office365.com')).toEqual(['SMTP.SendAsApp']);
    expect(d.grantedRoles(app.clientId, 'https://outlook.office365.us')).toEqual(['SMTP.SendAsApp']);
    expect(d.grantedRoles(app.clientId, 'https://graph.microsoft.com')).toEqual([]);
    expect(d.grantedRoles('unknown', 'https://outlook.office365.com')).toEqual([]);
  });

  it('Exchange side: service principals by app id + object id, FullAccess, SendAs, SMTP AUTH switches', () => {
    const d = createDirectory();
    const t = d.addTenant();
    const app = d.registerApp(t.id);
    const sp = d.newServicePrincipal(t.id, { appId: app.clientId, objectId: app.servicePrincipalObjectId });
    expect(d.findServicePrincipal(t.id, app.clientId, app.servicePrincipalObjectId)).toEqual(sp);
    expect(d.findServicePrincipal(t.id, app.clientId, app.appObjectId)).toBeUndefined();

    const box = d.addMailbox(t.id, 'Sender@Contoso.example');
    expect(box.address).toBe('sender@contoso.example');
    expect(hasFullAccess(box, sp)).toBe(false);
    d.addMailboxPermission('sender@contoso.example', sp.identity);
    expect(hasFullAccess(d.findMailbox('SENDER@contoso.example')!, sp)).toBe(true);
    d.removeMailboxPermission('sender@contoso.example', sp.identity);
    expect(hasFullAccess(d.findMailbox('sender@contoso.example')!, sp)).toBe(false);

    const shared = d.addMailbox(t.id, 'shared@contoso.example');
    expect(maySendAs(shared, sp)).toBe(false);
    d.addRecipientPermission('shared@contoso.example', sp.objectId);
    expect(maySendAs(d.findMailbox('shared@contoso.example'), sp)).toBe(true);
    expect(maySendAs(undefined, sp)).toBe(false);

    expect(smtpAuthEnabledFor(t, box)).toBe(true);
    d.setTenantSmtpAuth(t.id, false);
    expect(smtpAuthEnabledFor(t, d.findMailbox('sender@contoso.example')!)).toBe(false);
    d.setMailboxSmtpAuth('sender@contoso.example', true);
    expect(smtpAuthEnabledFor(t, d.findMailbox('sender@contoso.example')!)).toBe(true);

    d.removeServicePrincipal(sp.identity);
    expect(d.findServicePrincipal(t.id, app.clientId, app.servicePrincipalObjectId)).toBeUndefined();
  });

  it('snapshot never contains a secret value', () => {
    const d = createDirectory();
    const app = d.registerApp(d.addTenant().id);
    const s = d.addSecret(app.clientId);
    const snap = d.snapshot();
    expect(JSON.stringify(snap)).not.toContain(s.value);
    expect(snap.apps[0]?.secrets[0]).toEqual({
      id: s.id,
      expiresAt: s.expiresAt,
      hint: `${s.value.slice(0, 3)}…`,
    });
  });
});
