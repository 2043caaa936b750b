import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDirectory } from '../src/directory/index.js';
import { createExchangeAuthorizer } from '../src/exchange/index.js';
import type { AuthDecision, SmtpAuthorizer, SmtpIdentity } from '../src/smtp/authorizer.js';
import { getToken, startTokenFixture, type TokenFixture } from './fixtures/token.js';

let fx: TokenFixture;
let authorizer: SmtpAuthorizer;
let mailbox: string;
let spIdentity: string;

beforeAll(async () => {
  fx = await startTokenFixture();
  authorizer = createExchangeAuthorizer({
    directory: fx.directory,
    keys: fx.server.keys.getKey,
    clock: fx.clock,
  });
});
afterAll(() => fx.close());

/** Every setup step of reference §4 done, on a fresh mailbox per test. */
beforeEach(() => {
  const app = fx.directory.findApp(fx.clientId)!;
  for (const sp of fx.directory.snapshot().servicePrincipals)
    fx.directory.removeServicePrincipal(sp.identity);
  spIdentity = fx.directory.newServicePrincipal(fx.tenantId, {
    appId: app.clientId,
    objectId: app.servicePrincipalObjectId,
  }).identity;
  mailbox = `sender-${randomUUID().slice(0, 8)}@${fx.domain}`;
  fx.directory.addMailbox(fx.tenantId, mailbox);
  fx.directory.addMailboxPermission(mailbox, spIdentity);
  fx.directory.setTenantSmtpAuth(fx.tenantId, true);
  fx.directory.setSecurityDefaults(fx.tenantId, false);
  fx.directory.grantAdminConsent(fx.clientId);
});

async function auth(token?: string, user = mailbox): Promise<AuthDecision> {
  return authorizer.authenticate({ mechanism: 'XOAUTH2', user, token: token ?? (await getToken(fx)) });
}

function expectRefused(d: AuthDecision, refusal: string, reason: RegExp | string) {
  expect(d.ok).toBe(false);
  if (d.ok) return;
  expect(d.refusal).toBe(refusal);
  if (typeof reason === 'string') expect(d.reason).toContain(reason);
  else expect(d.reason).toMatch(reason);
}

describe('Exchange authorizer: AUTH decisions in Exchange order', () => {
  it('accepts a consented app-only token for a granted mailbox, with the identity', async () => {
    const d = await auth(undefined, mailbox.toUpperCase());
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const app = fx.directory.findApp(fx.clientId)!;
    expect(d.identity).toEqual({
      mailbox,
      appId: fx.clientId,
      tenantId: fx.tenantId,
      servicePrincipalObjectId: app.servicePrincipalObjectId,
      servicePrincipalIdentity: spIdentity,
    });
  });

  it('garbage → token is not a JWT', async () => {
    expectRefused(await auth('definitely-not-a-token'), 'authentication-unsuccessful', 'token is not a JWT');
  });

  it('a token signed by another issuer → signature invalid', async () => {
    const other = await startTokenFixture({ ca: fx.server.ca! });
    try {
      // Same tenant/app ids do not matter: the keys differ.
      const d = await auth(await getToken(other));
      expectRefused(d, 'authentication-unsuccessful', /^token signature invalid/);
    } finally {
      await other.close();
    }
  });

  it('a tampered token → signature invalid', async () => {
    const token = await getToken(fx);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.roles = ['SMTP.SendAsApp', 'Mail.ReadWrite'];
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expectRefused(await auth(forged), 'authentication-unsuccessful', /^token signature invalid/);
  });

  it('expiry with skew on the shared clock', async () => {
    const token = await getToken(fx);
    fx.clock.advance((3599 + 200) * 1000); // within 300 s skew
    try {
      expect((await auth(token)).ok).toBe(true);
      fx.clock.advance(200 * 1000);
      expectRefused(await auth(token), 'authentication-unsuccessful', /^token expired at /);
    } finally {
      fx.clock.advance(-(3599 + 400) * 1000);
    }
  });

  it('not yet valid (nbf beyond skew)', async () => {
    const token = await getToken(fx);
    fx.clock.advance(-600 * 1000);
    try {
      expectRefused(await auth(token), 'authentication-unsuccessful', /^token not valid before /);
    } finally {
      fx.clock.advance(600 * 1000);
    }
  });

  it('wrong audience (a Graph token) → refused; trailing-slash Exchange audience → accepted', async () => {
    expectRefused(
      await auth(await getToken(fx, 'https://graph.microsoft.com/.default')),
      'authentication-unsuccessful',
      "token audience 'https://graph.microsoft.com' is not Exchange Online",
    );
    expect((await auth(await getToken(fx, 'https://outlook.office365.com//.default'))).ok).toBe(true);
  });

  it('custom audience allow-list', async () => {
    const gcc = createExchangeAuthorizer({
      directory: fx.directory,
      keys: fx.server.keys.getKey,
      clock: fx.clock,
      audiences: ['https://outlook.office365.us'],
    });
    const token = await getToken(fx);
    expect((await gcc.authenticate({ mechanism: 'XOAUTH2', user: mailbox, token })).ok).toBe(false);
    const usToken = await getToken(fx, 'https://outlook.office365.us/.default');
    expect((await gcc.authenticate({ mechanism: 'XOAUTH2', user: mailbox, token: usToken })).ok).toBe(true);
  });

  it('no admin consent → no roles claim → refused', async () => {
    fx.directory.revokeAdminConsent(fx.clientId);
    const d = await auth();
    expectRefused(d, 'authentication-unsuccessful', 'token has no roles claim');
    expect(d.ok || d.identity?.appId).toBe(fx.clientId);
  });

  it('tenant unknown to this Exchange organization', async () => {
    const elsewhere = createExchangeAuthorizer({
      directory: createDirectory(),
      keys: fx.server.keys.getKey,
      clock: fx.clock,
    });
    const d = await elsewhere.authenticate({
      mechanism: 'XOAUTH2',
      user: mailbox,
      token: await getToken(fx),
    });
    expectRefused(d, 'authentication-unsuccessful', `tenant ${fx.tenantId} is not known`);
  });

  it('security defaults → security-defaults', async () => {
    fx.directory.setSecurityDefaults(fx.tenantId, true);
    expectRefused(await auth(), 'security-defaults', 'security defaults are enabled');
  });

  it('no New-ServicePrincipal → refused, naming the object-id pitfall', async () => {
    fx.directory.removeServicePrincipal(spIdentity);
    const app = fx.directory.findApp(fx.clientId)!;
    const d = await auth();
    expectRefused(
      d,
      'authentication-unsuccessful',
      `no service principal registered with New-ServicePrincipal for app ${fx.clientId} with object id ${app.servicePrincipalObjectId}`,
    );
    expect(d.ok ? '' : d.reason).toContain("that's the pitfall");
  });

  it("New-ServicePrincipal with the app registration's object id (the pitfall) → refused", async () => {
    fx.directory.removeServicePrincipal(spIdentity);
    const app = fx.directory.findApp(fx.clientId)!;
    fx.directory.newServicePrincipal(fx.tenantId, { appId: app.clientId, objectId: app.appObjectId });
    expectRefused(await auth(), 'authentication-unsuccessful', 'no service principal registered');
  });

  it('unknown mailbox, and a mailbox of another tenant', async () => {
    expectRefused(
      await auth(undefined, `nobody@${fx.domain}`),
      'authentication-unsuccessful',
      /^mailbox 'nobody@/,
    );
    const other = fx.directory.addTenant();
    fx.directory.addMailbox(other.id, 'someone@fabrikam.example');
    expectRefused(
      await auth(undefined, 'someone@fabrikam.example'),
      'authentication-unsuccessful',
      'does not exist in tenant',
    );
  });

  it('SMTP AUTH disabled for the tenant, for the mailbox; a mailbox override wins', async () => {
    fx.directory.setTenantSmtpAuth(fx.tenantId, false);
    expectRefused(await auth(), 'smtp-auth-disabled-tenant', 'SMTP AUTH is disabled for tenant');
    fx.directory.setMailboxSmtpAuth(mailbox, true);
    expect((await auth()).ok).toBe(true);
    fx.directory.setTenantSmtpAuth(fx.tenantId, true);
    fx.directory.setMailboxSmtpAuth(mailbox, false);
    expectRefused(await auth(), 'smtp-auth-disabled-mailbox', `SMTP AUTH is disabled for mailbox ${mailbox}`);
  });

  it('never puts the token into a reason', async () => {
    const token = await getToken(fx);
    fx.directory.revokeAdminConsent(fx.clientId);
    const decisions = [await auth(token), await auth(`${token}x`), await auth(`x${token}`)];
    for (const d of decisions) expect(JSON.stringify(d)).not.toContain(token.split('.')[2]);
  });

  it('fetches the JWKS by URL over HTTPS trusting the testkit CA', async () => {
    const byUrl = createExchangeAuthorizer({
      directory: fx.directory,
      keys: `${fx.server.url}/${fx.tenantId}/discovery/v2.0/keys`,
      ca: fx.server.caPem,
      clock: fx.clock,
    });
    expect(
      (await byUrl.authenticate({ mechanism: 'XOAUTH2', user: mailbox, token: await getToken(fx) })).ok,
    ).toBe(true);
  });

  it('accepts a static JWKS object', async () => {
    const byJwks = createExchangeAuthorizer({
      directory: fx.directory,
      keys: fx.server.keys.jwks(),
      clock: fx.clock,
    });
    expect(
      (await byJwks.authenticate({ mechanism: 'XOAUTH2', user: mailbox, token: await getToken(fx) })).ok,
    ).toBe(true);
  });
});

describe('Exchange authorizer: mailbox and SendAs', () => {
  async function identity(): Promise<SmtpIdentity> {
    const d = await auth();
    if (!d.ok) throw new Error(d.reason);
    return d.identity;
  }

  it('canOpenMailbox needs FullAccess (Add-MailboxPermission)', async () => {
    const id = await identity();
    expect(authorizer.canOpenMailbox(id).ok).toBe(true);
    fx.directory.removeMailboxPermission(mailbox, spIdentity);
    const no = authorizer.canOpenMailbox(id);
    expect(no.ok).toBe(false);
    expect(no.reason).toContain(`has no FullAccess on ${mailbox}`);
    // Granting by the Enterprise Application's object id works as well.
    fx.directory.addMailboxPermission(mailbox, id.servicePrincipalObjectId);
    expect(authorizer.canOpenMailbox(id).ok).toBe(true);
  });

  it('canSendAs: own mailbox yes; another address only with SendAs (Add-RecipientPermission)', async () => {
    const id = await identity();
    expect(authorizer.canSendAs(id, mailbox.toUpperCase()).ok).toBe(true);
    const shared = `shared-${randomUUID().slice(0, 8)}@${fx.domain}`;
    fx.directory.addMailbox(fx.tenantId, shared);
    const no = authorizer.canSendAs(id, shared);
    expect(no.ok).toBe(false);
    expect(no.reason).toContain(`has no SendAs on ${shared}`);
    fx.directory.addRecipientPermission(shared, spIdentity);
    expect(authorizer.canSendAs(id, shared).ok).toBe(true);
    expect(authorizer.canSendAs(id, 'stranger@elsewhere.example').ok).toBe(false);
  });
});
