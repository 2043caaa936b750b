import { createClientCertificate, createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnose } from '../src/doctor/index.js';
import type { DiagnoseResult, DiagnosticStep, DiagnosticStepId } from '../src/doctor/types.js';

// Every test gets its own environment: breaking a setup step must not leak into the next test.
let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function start(options: Parameters<typeof createTestEnvironment>[0] = {}): Promise<TestEnvironment> {
  env = await createTestEnvironment(options);
  return env;
}

function step(result: DiagnoseResult, id: DiagnosticStepId): DiagnosticStep {
  const s = result.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}

function firstFailure(result: DiagnoseResult): DiagnosticStep | undefined {
  return result.steps.find((s) => s.status === 'fail');
}

const statuses = (result: DiagnoseResult) => Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
const commands = (s: DiagnosticStep) => s.fix?.commands ?? [];
const links = (s: DiagnosticStep) => (s.fix?.links ?? []).map((l) => l.url);

/** Nothing secret may leave the doctor: the secret, the private key, any JWT. */
function expectNoSecrets(result: DiagnoseResult, e: TestEnvironment): void {
  const text = JSON.stringify(result);
  expect(text).not.toContain(e.clientSecret);
  expect(text).not.toContain(e.certificate.privateKeyPem.split('\n')[1]);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  expect(text).not.toMatch(/dXNlcj0/); // base64 of "user=": the XOAUTH2 blob
}

describe('diagnose — all green', () => {
  it('passes every step with a client secret and records the evidence', async () => {
    const e = await start();
    const result = await diagnose(e.config);
    expect(statuses(result)).toEqual({
      config: 'ok',
      dns: 'ok',
      tcp: 'ok',
      tls: 'ok',
      ehlo: 'ok',
      token: 'ok',
      claims: 'ok',
      auth: 'ok',
      mail: 'ok',
      message: 'skipped',
    });
    expect(result.ok).toBe(true);
    expect(result.summary).toBe('All checks passed');
    expect(step(result, 'tcp').evidence.join('\n')).toMatch(
      /^S: 220 .* Microsoft ESMTP MAIL Service ready at /m,
    );
    const tls = step(result, 'tls').evidence.join('\n');
    expect(tls).toContain('S: 250-STARTTLS');
    expect(tls).toContain('S: 220 2.0.0 SMTP server ready');
    expect(tls).toMatch(/negotiated TLSv1\.[23]/);
    expect(tls).toMatch(/certificate .*CN=localhost.*valid until \d{4}-/);
    expect(step(result, 'ehlo').evidence).toContain('S: 250-AUTH LOGIN XOAUTH2');
    const claims = step(result, 'claims').evidence;
    expect(claims).toContain('roles: SMTP.SendAsApp');
    expect(claims).toContain(`tid: ${e.tenantId}`);
    expect(claims).toContain(`oid (Enterprise Application object id): ${e.app.servicePrincipalObjectId}`);
    const auth = step(result, 'auth').evidence;
    // RFC 4954 §4: an Entra-sized token does not fit a 512-octet AUTH line: the two-step form.
    expect(auth.slice(0, 3)).toEqual([
      'C: AUTH XOAUTH2',
      'S: 334 ',
      `C: <XOAUTH2 blob for ${e.mailbox}, redacted>`,
    ]);
    expect(auth).toContain('S: 235 2.7.0 Authentication successful');
    const mail = step(result, 'mail').evidence;
    expect(mail).toContain('S: 250 2.1.0 Sender OK');
    expect(mail).toContain('S: 250 2.1.5 Recipient OK');
    expect(mail).toContain('C: RSET');
    for (const s of result.steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(e.messages()).toHaveLength(0); // RSET: nothing submitted without sendTestTo
    expectNoSecrets(result, e);
  });

  it('sends a test message when asked, and passes with a certificate credential', async () => {
    const e = await start();
    const result = await diagnose(e.certificateConfig, { sendTestTo: e.mailbox });
    expect(result.ok).toBe(true);
    expect(step(result, 'message').status).toBe('ok');
    expect(step(result, 'message').evidence.join('\n')).toMatch(/S: 250 2\.0\.0 OK .* \[Hostname=/);
    expect(step(result, 'config').evidence.join('\n')).toContain(
      `SHA-1 thumbprint ${e.certificate.thumbprintSha1}`,
    );
    expect(step(result, 'claims').evidence).toContain(
      '✓ credential-type: Obtained with a certificate (appidacr 2)',
    );
    const msg = await e.waitForMessage((m) => m.parsed.subject === 'smtp-oauth doctor test message');
    expect(msg).toBeDefined();
    expectNoSecrets(result, e);
  });

  it('passes over implicit TLS (port 465 style): handshake first, then the greeting', async () => {
    const e = await start({ smtpMode: 'implicit-tls' });
    expect(e.config.security).toBe('tls');
    const result = await diagnose(e.config);
    expect(result.ok).toBe(true);
    const tls = step(result, 'tls').evidence.join('\n');
    expect(tls).not.toContain('STARTTLS');
    expect(tls).toMatch(/negotiated TLSv1\.[23][\s\S]*S: 220 .* Microsoft ESMTP MAIL Service ready/);
  });

  it('speaks to the Google persona: the 334 JSON challenge is decoded into the evidence', async () => {
    const e = await start({ persona: 'google' });
    expect((await diagnose(e.config)).ok).toBe(true);
    e.directory.revokeAdminConsent(e.clientId);
    const result = await diagnose(e.config);
    const auth = step(result, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.evidence).toContain('challenge (decoded): status 401, scope https://mail.google.com/');
    expect(auth.evidence).toContain('C: <empty response to the challenge>');
    expect(auth.evidence.join('\n')).toContain('535 5.7.8');
  });

  it('reports each step through onStep as it completes, in order', async () => {
    const e = await start();
    const seen: string[] = [];
    await diagnose(e.config, { onStep: (s) => seen.push(s.id) });
    expect(seen).toEqual([
      'config',
      'dns',
      'tcp',
      'tls',
      'ehlo',
      'token',
      'claims',
      'auth',
      'mail',
      'message',
    ]);
  });
});

describe('diagnose — each broken setup step is named, with the fix in the user’s values', () => {
  it('no admin consent → claims fail (no SMTP.SendAsApp), AUTH 535 5.7.3 blamed on consent', async () => {
    const e = await start();
    e.directory.revokeAdminConsent(e.clientId);
    const result = await diagnose(e.config);
    expect(firstFailure(result)?.id).toBe('claims');
    const claims = step(result, 'claims');
    expect(claims.evidence).toContain('roles: (none)');
    expect(claims.causes?.[0]).toMatch(/no roles claim: admin consent for SMTP\.SendAsApp is missing/);
    expect(links(claims)).toContain(
      `https://login.microsoftonline.com/${e.tenantId}/adminconsent?client_id=${e.clientId}`,
    );
    const auth = step(result, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.evidence).toContain(
      'S: 535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    );
    expect(auth.causes?.[0]).toMatch(/^Admin consent .* SMTP\.SendAsApp is missing/);
    expect(links(auth)[0]).toBe(
      `https://login.microsoftonline.com/${e.tenantId}/adminconsent?client_id=${e.clientId}`,
    );
    expect(step(result, 'mail').status).toBe('skipped');
    expect(result.ok).toBe(false);
    expectNoSecrets(result, e);
  });

  it('no service principal → AUTH 535 5.7.3, fix New-ServicePrincipal with the Enterprise Application object id', async () => {
    const e = await start();
    e.directory.removeServicePrincipal(e.servicePrincipal.identity);
    const result = await diagnose(e.config);
    expect(firstFailure(result)?.id).toBe('auth');
    expect(step(result, 'claims').status).toBe('ok');
    const auth = step(result, 'auth');
    expect(auth.evidence).toContain(
      'S: 535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    );
    expect(auth.causes?.[0]).toMatch(/service principal is not registered in Exchange Online/);
    expect(commands(auth)).toContain('Connect-ExchangeOnline -UserPrincipalName <admin@your-tenant>');
    expect(commands(auth)).toContain(
      `New-ServicePrincipal -AppId ${e.clientId} -ObjectId ${e.app.servicePrincipalObjectId}`,
    );
    expect(auth.fix?.summary).toMatch(/Enterprise Application's object id/);
    expect(auth.fix?.summary).toMatch(/not the app registration's object id/);
  });

  it("service principal registered with the app registration's object id (the pitfall) → same fix, right object id", async () => {
    const e = await start();
    e.directory.removeServicePrincipal(e.servicePrincipal.identity);
    const wrong = e.directory.newServicePrincipal(e.tenantId, {
      appId: e.clientId,
      objectId: e.app.appObjectId,
    });
    e.directory.addMailboxPermission(e.mailbox, wrong.identity);
    const result = await diagnose(e.config);
    expect(firstFailure(result)?.id).toBe('auth');
    const auth = step(result, 'auth');
    expect(auth.evidence.join('\n')).toContain('535 5.7.3 Authentication unsuccessful');
    expect(auth.causes?.[0]).toContain(
      `registered with the app registration's object id instead of the Enterprise Application's (${e.app.servicePrincipalObjectId})`,
    );
    const cmd = commands(auth).find((c) => c.startsWith('New-ServicePrincipal'));
    expect(cmd).toBe(`New-ServicePrincipal -AppId ${e.clientId} -ObjectId ${e.app.servicePrincipalObjectId}`);
    expect(cmd).not.toContain(e.app.appObjectId);
    expect(auth.fix?.summary).toMatch(/Remove-ServicePrincipal/);
  });

  it('no mailbox permission → 430 4.2.0 mailbox logon failure, fix Add-MailboxPermission for the mailbox', async () => {
    const e = await start();
    e.directory.removeMailboxPermission(e.mailbox, e.servicePrincipal.identity);
    const result = await diagnose(e.config, { sendTestTo: e.mailbox });
    const failed = firstFailure(result);
    expect(failed?.id).toBe('mail');
    expect(failed?.evidence).toContain(
      'S: 430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message Cannot open mailbox.',
    );
    expect(commands(failed!)).toContain(
      `Add-MailboxPermission -Identity "${e.mailbox}" -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess`,
    );
    expect(commands(failed!)).toContain(
      `Get-ServicePrincipal | Where-Object AppId -eq '${e.clientId}' | Format-List`,
    );
    expect(step(result, 'message').status).toBe('skipped');
  });

  it('SMTP AUTH disabled for the tenant → 535 5.7.139, fix Set-CASMailbox / Set-TransportConfig', async () => {
    const e = await start();
    e.directory.setTenantSmtpAuth(e.tenantId, false);
    const result = await diagnose(e.config);
    const auth = step(result, 'auth');
    expect(firstFailure(result)?.id).toBe('auth');
    expect(auth.evidence).toContain(
      'S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
    );
    expect(commands(auth)).toContain(
      `Set-CASMailbox -Identity "${e.mailbox}" -SmtpClientAuthenticationDisabled $false`,
    );
    expect(commands(auth)).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $false');
  });

  it('SMTP AUTH disabled for the mailbox → 535 5.7.139 …Mailbox, fix Set-CASMailbox for that mailbox', async () => {
    const e = await start();
    e.directory.setMailboxSmtpAuth(e.mailbox, false);
    const result = await diagnose(e.config);
    const auth = step(result, 'auth');
    expect(firstFailure(result)?.id).toBe('auth');
    expect(auth.evidence).toContain(
      'S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
    );
    expect(commands(auth)).toContain(
      `Set-CASMailbox -Identity "${e.mailbox}" -SmtpClientAuthenticationDisabled $false`,
    );
    expect(commands(auth)).not.toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $false');
  });

  it('security defaults → 535 5.7.139 security defaults policy', async () => {
    const e = await start();
    e.directory.setSecurityDefaults(e.tenantId, true);
    const result = await diagnose(e.config);
    const auth = step(result, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.evidence.join('\n')).toContain('security defaults policy');
    expect(auth.fix?.summary).toMatch(/security defaults/);
  });

  it('wrong scope (Graph) → claims fail on the audience, AUTH 535 5.7.3 blamed on the scope', async () => {
    const e = await start();
    const config = { ...e.config, auth: { ...e.config.auth, scope: 'https://graph.microsoft.com/.default' } };
    const result = await diagnose(config);
    expect(firstFailure(result)?.id).toBe('claims');
    const claims = step(result, 'claims');
    expect(claims.evidence).toContain('aud: https://graph.microsoft.com');
    expect(claims.fix?.summary).toContain('Set auth.scope to https://outlook.office365.com/.default');
    const auth = step(result, 'auth');
    expect(auth.evidence.join('\n')).toContain('535 5.7.3 Authentication unsuccessful');
    expect(auth.causes?.[0]).toMatch(/audience is https:\/\/graph\.microsoft\.com/);
    expect(auth.fix?.commands).toContain('"scope": "https://outlook.office365.com/.default"');
    // Regression: the missing role followed from the wrong audience, yet "admin consent is missing"
    // (a Global Administrator's task) was named as a cause too. It folds under the scope now.
    expect(auth.causes).toHaveLength(1);
    expect(claims.causes?.join(' ')).not.toMatch(/admin consent|SendAsApp application permission/);
    expect(claims.evidence.join('\n')).toMatch(/follows from the wrong audience/);
    expect(claims.fix?.fields).toEqual(['auth.scope']);
    expect((claims.fix?.links ?? []).some((l) => /consent/i.test(l.label))).toBe(false);
  });

  it('scope without /.default → the config step names auth.scope and nothing is contacted', async () => {
    const e = await start();
    const config = { ...e.config, auth: { ...e.config.auth, scope: 'Mail.Send' } };
    const result = await diagnose(config);
    expect(firstFailure(result)?.id).toBe('config');
    expect(step(result, 'config').evidence.join('\n')).toMatch(
      /^auth\.scope: must be `<resource>\/\.default`/m,
    );
    for (const id of ['dns', 'tcp', 'token', 'auth'] as const)
      expect(step(result, id).status).toBe('skipped');
    expect(e.tokenRequests()).toHaveLength(0);
  });

  it('wrong secret → token fails with AADSTS7000215, fix points at the app’s Certificates & secrets', async () => {
    const e = await start();
    const config = {
      ...e.config,
      auth: {
        ...e.config.auth,
        credential: { kind: 'secret' as const, secret: 'Wr0ng~secret-value-0123456789abcdefghijk' },
      },
    };
    const result = await diagnose(config);
    expect(firstFailure(result)?.id).toBe('token');
    const token = step(result, 'token');
    expect(token.evidence[0]).toMatch(
      /^HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided\. Ensure the secret being sent in the request is the client secret value, not the client secret ID/,
    );
    expect(token.evidence).toContain('error code TOKEN_INVALID_CLIENT_SECRET');
    // Regression: "the secret's ID" was listed first although validation refuses GUID-shaped secrets.
    // Entra's reply does not say which cause it is: both are worded as guesses.
    expect(token.causes?.[0]).toMatch(/^Most likely the Value was mistyped/);
    expect(token.causes?.[1]).toMatch(/^Possibly the secret was deleted or rotated/);
    expect(token.causes?.join(' ')).not.toMatch(/secret's ID|\bID\b/);
    expect(token.fix?.fields).toEqual(['auth.credential.secret']);
    expect(links(token).some((u) => u.includes(`/Credentials/appId/${e.clientId}`))).toBe(true);
    expect(statuses(result)).toMatchObject({ claims: 'skipped', auth: 'skipped', mail: 'skipped' });
    expect(step(result, 'ehlo').status).toBe('ok'); // the SMTP side still got checked
    expect(JSON.stringify(result)).not.toContain('Wr0ng~secret');
  });

  it('expired secret → token fails with AADSTS7000222, fix: new secret or a certificate', async () => {
    const e = await start();
    const app = e.directory.findApp(e.clientId)!;
    for (const s of app.secrets) s.expiresAt = e.clock.now() - 60_000;
    const result = await diagnose(e.config);
    const token = step(result, 'token');
    expect(firstFailure(result)?.id).toBe('token');
    expect(token.evidence[0]).toContain(
      `AADSTS7000222: The provided client secret keys for app '${e.clientId}' are expired.`,
    );
    expect(token.fix?.summary).toMatch(/have expired.*certificate credential/);
  });

  it('unknown certificate → token fails with AADSTS700027, fix names the configured thumbprint', async () => {
    const e = await start();
    const other = createClientCertificate({ commonName: 'not uploaded' });
    const config = {
      ...e.certificateConfig,
      auth: {
        ...e.certificateConfig.auth,
        credential: {
          kind: 'certificate' as const,
          certificatePem: other.certificatePem,
          privateKeyPem: other.privateKeyPem,
        },
      },
    };
    const result = await diagnose(config);
    const token = step(result, 'token');
    expect(firstFailure(result)?.id).toBe('token');
    expect(token.evidence[0]).toMatch(/AADSTS700027: Client assertion contains an invalid signature/);
    expect(token.fix?.summary).toContain(other.thumbprintSha1);
    expect(token.fix?.summary).toContain(e.clientId);
    expect(JSON.stringify(result)).not.toContain(other.privateKeyPem.split('\n')[1]);
  });

  it('a From without SendAs → 554 5.2.252 at end of DATA, fix Add-RecipientPermission for that From', async () => {
    const e = await start();
    const other = `shared@${e.tenantDomain}`;
    e.directory.addMailbox(e.tenantId, other);
    const result = await diagnose(e.config, { from: other, sendTestTo: e.mailbox });
    expect(step(result, 'mail').status).toBe('ok');
    const message = step(result, 'message');
    expect(firstFailure(result)?.id).toBe('message');
    expect(message.evidence.join('\n')).toContain(
      `554 5.2.252 SendAsDenied; ${e.mailbox} not allowed to send as ${other}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied`,
    );
    expect(commands(message)).toContain(
      `Add-RecipientPermission -Identity "${other}" -Trustee <SERVICE_PRINCIPAL_ID> -AccessRights SendAs`,
    );
  });

  it('a From without SendAs and no test message → mail warns that SendAs is unverified', async () => {
    const e = await start();
    const other = `shared@${e.tenantDomain}`;
    e.directory.addMailbox(e.tenantId, other);
    const result = await diagnose(e.config, { from: other });
    const mail = step(result, 'mail');
    expect(mail.status).toBe('warn');
    expect(mail.causes?.[0]).toMatch(/needs the SendAs right/);
    expect(result.ok).toBe(true);
  });
});

describe('diagnose — transport failures stop before credentials are sent', () => {
  it('a server without STARTTLS → tls fails, AUTH never attempted', async () => {
    const e = await start({ smtpMode: 'plain-no-starttls' });
    const result = await diagnose(e.config);
    expect(firstFailure(result)?.id).toBe('tls');
    const tls = step(result, 'tls');
    expect(tls.evidence).toContain('C: EHLO smtp-oauth-doctor');
    expect(tls.evidence.filter((l) => l.startsWith('S: 250')).join('\n')).not.toContain('STARTTLS');
    expect(tls.evidence).toContain(
      'The server does not offer STARTTLS: stopped before any credentials were sent.',
    );
    expect(tls.causes?.length).toBeGreaterThan(0);
    expect(statuses(result)).toMatchObject({
      ehlo: 'skipped',
      token: 'ok',
      auth: 'skipped',
      mail: 'skipped',
    });
    expect(e.authAttempts()).toHaveLength(0);
  });

  it('an untrusted server certificate → tls fails with the verification error', async () => {
    const e = await start();
    const { tls: _ca, ...noCa } = e.config;
    // Trust only the token server (through the option) so the SMTP certificate is unverifiable.
    const result = await diagnose(noCa, {
      tokenProvider: { getToken: async () => ({ accessToken: 'x', expiresAt: Date.now() + 3_600_000 }) },
    });
    const tls = step(result, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.evidence.join('\n')).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self-signed|SELF_SIGNED/i,
    );
    expect(tls.fix?.summary).toMatch(/tls\.ca/);
    expect(e.authAttempts()).toHaveLength(0);
  });

  it('a name that does not resolve → dns fails (lookup seam), the rest is skipped', async () => {
    const e = await start();
    const result = await diagnose(
      { ...e.config, host: 'smtp.invalid-host.example' },
      {
        lookup: async (host) => {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        },
      },
    );
    expect(firstFailure(result)?.id).toBe('dns');
    expect(step(result, 'dns').evidence[0]).toBe(
      'lookup smtp.invalid-host.example: getaddrinfo ENOTFOUND smtp.invalid-host.example',
    );
    expect(statuses(result)).toMatchObject({ tcp: 'skipped', tls: 'skipped', auth: 'skipped' });
    // The token is independent of the SMTP host and is still checked.
    expect(step(result, 'token').status).toBe('ok');
  });

  it('a closed port → tcp fails with the errno and the firewall cause first', async () => {
    const e = await start();
    const port = e.smtp.port;
    await e.smtpServer.close();
    const result = await diagnose(e.config, { timeoutMs: 3000 });
    const tcp = step(result, 'tcp');
    expect(tcp.status).toBe('fail');
    expect(tcp.evidence[0]).toBe(`127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(tcp.causes?.[0]).toMatch(/firewall/);
    expect(tcp.fix?.commands).toContain(`Test-NetConnection -ComputerName 127.0.0.1 -Port ${port}`);
  });
});

describe('diagnose — warnings', () => {
  it('a short token lifetime warns', async () => {
    const e = await start({ tokenTtlSeconds: 300 });
    const result = await diagnose(e.config);
    expect(step(result, 'token').status).toBe('warn');
    expect(step(result, 'token').causes?.[0]).toMatch(/lives only 5 min/);
    expect(result.ok).toBe(true);
  });

  it('a client certificate expiring within 30 days warns in the config step', async () => {
    const e = await start();
    const soon = createClientCertificate({ notAfter: new Date(Date.now() + 10 * 86_400_000) });
    e.directory.addCertificate(e.clientId, soon.certificatePem);
    const config = {
      ...e.certificateConfig,
      auth: {
        ...e.certificateConfig.auth,
        credential: {
          kind: 'certificate' as const,
          certificatePem: soon.certificatePem,
          privateKeyPem: soon.privateKeyPem,
        },
      },
    };
    const result = await diagnose(config);
    const cfg = step(result, 'config');
    expect(cfg.status).toBe('warn');
    expect(cfg.causes?.[0]).toMatch(/expires in (9|10) days/);
    expect(result.ok).toBe(true);
  });

  it('a Microsoft host with a client secret warns that a certificate is recommended', async () => {
    const e = await start();
    // smtp.office365.com is only a name here: the lookup seam points it at the testkit.
    const result = await diagnose(
      { ...e.config, host: 'smtp.office365.com' },
      { lookup: async () => [{ address: '127.0.0.1', family: 4 }], timeoutMs: 3000 },
    );
    const cfg = step(result, 'config');
    expect(cfg.status).toBe('warn');
    expect(cfg.causes?.join('\n')).toMatch(/recommends a certificate/);
    expect(cfg.fix?.commands?.[0]).toMatch(/^\$cert = New-SelfSignedCertificate/);
    // The testkit certificate does not cover smtp.office365.com: verification must refuse it.
    expect(step(result, 'tls').status).toBe('fail');
  });

  it('password auth on a Microsoft host warns', async () => {
    const result = await diagnose(
      {
        name: 'legacy',
        host: 'smtp.office365.com',
        user: 'a@contoso.com',
        auth: { type: 'password', password: 'hunter2-canary' },
      },
      {
        lookup: async () => {
          throw Object.assign(new Error('getaddrinfo ENOTFOUND smtp.office365.com'), { code: 'ENOTFOUND' });
        },
      },
    );
    const cfg = step(result, 'config');
    expect(cfg.status).toBe('warn');
    expect(cfg.causes?.[0]).toMatch(
      /Microsoft disables basic SMTP AUTH by default at the end of December 2026/,
    );
    expect(commands(cfg)).toContain('smtp-oauth config migrate --tenant <TENANT_ID> --client-id <CLIENT_ID>');
    expect(cfg.fix?.summary).toMatch(/auth\.type "oauth2"/);
    expect(JSON.stringify(result)).not.toContain('hunter2-canary');
  });
});
