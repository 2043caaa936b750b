import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMicrosoftHost } from '../config/microsoft.js';
import { type ConfigWarning, parseConfig } from '../config/parse.js';
import type { EmailServerConfig } from '../config/schema.js';
import { type CertificateCredential, loadCertificateCredential } from '../credentials/index.js';
import { errorFromNetwork } from '../errors/network-errors.js';
import { redactSecrets } from '../errors/redact.js';
import type { SmtpOAuthError } from '../errors/smtp-oauth-error.js';
import type { ClaimsView } from './claims.js';
import {
  authFailure,
  describeChallenge,
  inspectClaims,
  moveToOAuth2Fix,
  rbacInferred,
  smtpRefusal,
  tokenFailure,
} from './findings.js';
import { type FixValues, fixes, fixValues } from '../setup/fixes.js';
import {
  type SmtpDialogue as Dialogue,
  parseCapabilities,
  type SmtpReply,
  SmtpDialogue,
} from './smtp-dialogue.js';
import { xoauth2InitialResponse } from '../mailer/sasl.js';
import { proxyFor, proxyLabel } from '../internal/https-fetch.js';
import { defaultTokenProvider } from './token-source.js';
import type {
  DiagnoseOptions,
  DiagnoseResult,
  DiagnoseTokenProvider,
  DiagnosticFix,
  DiagnosticStep,
  DiagnosticStepId,
} from './types.js';
import {
  errorText,
  EXPIRY_WARNING_MS,
  inMinutes,
  iso,
  MIN_TOKEN_LIFETIME_MS,
  mergeFixes,
  type Outcome,
} from './util.js';

const TITLES: Record<DiagnosticStepId, string> = {
  config: 'Configuration',
  dns: 'DNS lookup',
  tcp: 'TCP connection',
  tls: 'TLS',
  ehlo: 'SMTP capabilities (EHLO)',
  token: 'Access token',
  claims: 'Token claims',
  auth: 'SMTP AUTH',
  mail: 'Sender and recipient (MAIL FROM / RCPT TO)',
  message: 'Test message',
};

const ORDER: DiagnosticStepId[] = [
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
];
const TRANSPORT = ['tcp', 'tls', 'ehlo'] as const;

function loadCredential(
  config: EmailServerConfig,
  now: () => number,
): { credential?: CertificateCredential; error?: unknown } {
  if (config.auth.type !== 'oauth2' || config.auth.credential.kind === 'secret') return {};
  try {
    return { credential: loadCertificateCredential(config.auth.credential, { now }) };
  } catch (error) {
    return { error };
  }
}

function describeCredential(config: EmailServerConfig): string {
  if (config.auth.type !== 'oauth2') return config.auth.type === 'password' ? 'password (set)' : 'none';
  const c = config.auth.credential;
  if (c.kind === 'secret') return 'client secret (set)';
  return `${c.kind === 'pfx' ? 'PFX certificate' : 'certificate'}${c.thumbprint ? `, thumbprint ${c.thumbprint}` : ''}`;
}

function warningFix(w: ConfigWarning, v: FixValues): DiagnosticFix | undefined {
  switch (w.code) {
    case 'CLIENT_SECRET_NOT_RECOMMENDED':
      return fixes.certificateRecommended(v);
    case 'PASSWORD_AUTH_DEPRECATED':
      return moveToOAuth2Fix(v);
    case 'NO_AUTH_ON_MICROSOFT_HOST':
      return fixes.passwordAuth(v);
    default:
      return { summary: w.message };
  }
}

/** Sends the test message's text; dot-stuffing is unnecessary as no line starts with a dot. */
function testMessage(from: string, to: string, host: string, now: number): string[] {
  const id = `<doctor.${now.toString(36)}.${Math.random().toString(36).slice(2)}@${host}>`;
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    'Subject: smtp-oauth doctor test message',
    `Date: ${new Date(now).toUTCString()}`,
    `Message-ID: ${id}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'This message was sent by the smtp-oauth doctor to check that this mailbox may send mail.',
    'No action is needed.',
  ];
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Diagnoses an email-server entry step by step, the way an expert would: config → DNS → TCP →
 * TLS → EHLO → token → claims → AUTH → MAIL/RCPT → (optional) test message. Each step records
 * the exact replies it saw as evidence and, on failure, the probable causes and the setup step
 * that fixes it, written with the entry's own tenant, client id and mailbox. Steps that cannot run
 * after a failure are `skipped` with the reason.
 *
 * Never throws for a failing setup: the failure is the result. Secrets and the access token never
 * appear in the result.
 *
 * @example
 * const result = await diagnose(config, { sendTestTo: 'me@contoso.com' });
 * for (const step of result.steps) console.log(step.status, step.title, step.evidence.join('\n'));
 */
export async function diagnose(
  config: EmailServerConfig | unknown,
  options: DiagnoseOptions = {},
): Promise<DiagnoseResult> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const clientName = options.clientName ?? 'smtp-oauth-doctor';
  const steps: DiagnosticStep[] = [];
  const done = new Map<DiagnosticStepId, DiagnosticStep>();

  const record = (step: DiagnosticStep) => {
    steps.push(step);
    done.set(step.id, step);
    options.onStep?.(step);
  };
  const skip = (id: DiagnosticStepId, reason: string) =>
    record({ id, title: TITLES[id], status: 'skipped', durationMs: 0, evidence: [reason] });
  const run = async (id: DiagnosticStepId, fn: () => Promise<Outcome>): Promise<DiagnosticStep> => {
    const start = performance.now();
    let outcome: Outcome;
    try {
      outcome = await fn();
    } catch (err) {
      outcome = { status: 'fail', evidence: [errorText(err)] };
    }
    const step: DiagnosticStep = {
      id,
      title: TITLES[id],
      status: outcome.status,
      durationMs: Math.round(performance.now() - start),
      evidence: outcome.evidence.map((line) => redactSecrets(line)),
      ...(outcome.causes?.length ? { causes: outcome.causes } : {}),
      ...(outcome.fix ? { fix: outcome.fix } : {}),
    };
    record(step);
    return step;
  };
  const ok = (id: DiagnosticStepId) => {
    const s = done.get(id);
    return s !== undefined && (s.status === 'ok' || s.status === 'warn');
  };
  const skipRest = (from: DiagnosticStepId, reason: string) => {
    for (const id of ORDER.slice(ORDER.indexOf(from))) if (!done.has(id)) skip(id, reason);
  };
  // The token does not depend on the SMTP connection, so a transport failure only skips transport steps.
  const skipTransport = (from: 'tcp' | 'tls' | 'ehlo', reason: string) => {
    for (const id of TRANSPORT.slice(TRANSPORT.indexOf(from))) if (!done.has(id)) skip(id, reason);
  };

  // ── config ──────────────────────────────────────────────────────────────────────────────────
  let cfg: EmailServerConfig | undefined;
  let certificate: CertificateCredential | undefined;
  await run('config', async () => {
    const parsed = parseConfig(config);
    if (!parsed.ok)
      return {
        status: 'fail',
        evidence: parsed.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)),
        causes: ['The entry has invalid or missing fields; nothing was contacted.'],
        fix: { summary: 'Correct each field named above, then run the doctor again.' },
      };
    const c = parsed.config;
    const from = options.from ?? c.from ?? c.user;
    const v = fixValues(c, from);
    const oauth = c.auth.type === 'oauth2' ? c.auth : undefined;
    const evidence = [
      `SMTP ${c.host}:${c.port} (${c.security === 'tls' ? 'implicit TLS' : 'STARTTLS'}), mailbox ${c.user}${from !== c.user ? `, From ${from}` : ''}`,
      oauth
        ? `OAuth2 (${oauth.provider}): token endpoint ${oauth.tokenEndpoint}, client id ${oauth.clientId}, scope ${oauth.scope}, credential ${describeCredential(c)}`
        : `auth: ${describeCredential(c)}`,
    ];
    const loaded = loadCredential(c, now);
    if (loaded.error) {
      const issues = (loaded.error as { issues?: { path: string; message: string }[] }).issues;
      const code = (loaded.error as { code?: string }).code;
      return {
        status: 'fail',
        evidence: [
          ...evidence,
          ...(issues ?? []).map((i) => `${i.path}: ${i.message}`),
          ...(issues ? [] : [errorText(loaded.error)]),
        ],
        causes: [
          code === 'CREDENTIAL_EXPIRED'
            ? 'The client certificate is outside its validity period; Entra refuses assertions signed with it.'
            : 'The certificate or private key cannot be used (unreadable, wrong passphrase, key and certificate do not match, or the thumbprint differs).',
        ],
        fix:
          code === 'CREDENTIAL_EXPIRED'
            ? {
                summary: `Create a new certificate, upload its public part to app ${v.clientId} (Certificates & secrets) and configure it.`,
                commands: fixes.certificateRecommended(v).commands ?? [],
              }
            : {
                summary:
                  'Export the certificate and its private key again from the same key pair, check the PFX passphrase, and copy the thumbprint from the app registration.',
              },
      };
    }
    cfg = c;
    certificate = loaded.credential;
    const stepFixes: DiagnosticFix[] = [];
    const causes: string[] = [];
    const warnings: ConfigWarning[] = [...parsed.warnings, ...(certificate?.warnings ?? [])];
    if (certificate)
      evidence.push(
        `client certificate ${certificate.subject}, SHA-1 thumbprint ${certificate.thumbprintSha1}, valid until ${iso(certificate.notAfter.getTime())}`,
      );
    for (const w of warnings) {
      evidence.push(`warning ${w.path}: ${w.message}`);
      causes.push(w.message);
      const f = w.code === 'CERTIFICATE_EXPIRES_SOON' ? undefined : warningFix(w, v);
      if (f) stepFixes.push(f);
      if (w.code === 'CERTIFICATE_EXPIRES_SOON')
        stepFixes.push({
          summary: `Create a new certificate, upload its public part to app ${v.clientId} (Certificates & secrets) and configure it before ${iso(certificate?.notAfter.getTime() ?? now())}.`,
        });
    }
    const fix = mergeFixes(stepFixes);
    return causes.length
      ? { status: 'warn', evidence, causes, ...(fix ? { fix } : {}) }
      : { status: 'ok', evidence };
  });
  if (!cfg) {
    skipRest('dns', 'Skipped: the configuration is invalid.');
    return finish(steps);
  }
  const c: EmailServerConfig = cfg;
  const from = options.from ?? c.from ?? c.user;
  const v = fixValues(c, from);
  const microsoft = isMicrosoftHost(c.host);
  const oauth = c.auth.type === 'oauth2' ? c.auth : undefined;
  // An IPv6 literal may be written in brackets; sockets and TLS want it bare.
  const bareHost = c.host.replace(/^\[(.*)\]$/, '$1');

  // ── dns ─────────────────────────────────────────────────────────────────────────────────────
  let addresses: string[] = [];
  await run('dns', async () => {
    if (isIP(bareHost)) {
      addresses = [bareHost];
      return { status: 'ok', evidence: [`${c.host} is an IP address; no lookup needed`] };
    }
    const lookup = options.lookup ?? ((host: string) => dnsLookup(host, { all: true }));
    try {
      const found = await withTimeout(lookup(bareHost), timeoutMs, `DNS lookup of ${c.host}`);
      addresses = found.map((a) => a.address);
    } catch (err) {
      return {
        status: 'fail',
        evidence: [`lookup ${c.host}: ${errorText(err)}`],
        causes: [
          `The host name ${c.host} is misspelt or does not exist.`,
          'This machine has no working DNS resolver or no network access.',
        ],
        fix: {
          summary: microsoft
            ? 'Use smtp.office365.com or smtp-mail.outlook.com as host and check DNS resolution on this machine.'
            : `Check the host name ${c.host} and DNS resolution on this machine.`,
          commands: [`Resolve-DnsName ${c.host}`],
        },
      };
    }
    if (addresses.length === 0)
      return {
        status: 'fail',
        evidence: [`lookup ${c.host}: no addresses`],
        causes: ['The host name has no A/AAAA records.'],
      };
    return { status: 'ok', evidence: [`${c.host} → ${addresses.join(', ')}`] };
  });
  if (!ok('dns')) skipTransport('tcp', `Skipped: ${c.host} could not be resolved.`);

  // ── tcp / tls / ehlo ────────────────────────────────────────────────────────────────────────
  let conn: Dialogue | undefined;
  let connectedAddress: string | undefined;
  const tlsOptions = { ca: options.ca ?? c.tls?.ca, minVersion: 'TLSv1.2' as const };
  let authMechanisms: string[] = [];

  /** Reads the greeting; for implicit TLS it follows the handshake. */
  const greeting = async (d: Dialogue): Promise<SmtpReply> => {
    const reply = await d.read();
    if (reply.code !== 220)
      throw Object.assign(new Error(`unexpected greeting: ${reply.text}`), { code: 'EPROTOCOL' });
    return reply;
  };

  if (ok('dns')) {
    await run('tcp', async () => {
      const errors: string[] = [];
      for (const address of addresses.slice(0, 3)) {
        try {
          const t0 = performance.now();
          conn = await SmtpDialogue.open({ address, port: c.port, timeoutMs });
          connectedAddress = address;
          const evidence = [`connected to ${address}:${c.port} in ${Math.round(performance.now() - t0)} ms`];
          if (c.security === 'starttls') {
            const g = await greeting(conn);
            evidence.push(...g.lines.map((l) => `S: ${l}`));
          }
          return { status: 'ok', evidence: [...errors, ...evidence] };
        } catch (err) {
          errors.push(`${address}:${c.port}: ${errorText(err)}`);
          if (conn && !connectedAddress) conn = undefined;
          if (connectedAddress) {
            return {
              status: 'fail',
              evidence: errors,
              causes: [
                'The server accepted the connection but did not greet with 220 (busy, or not an SMTP server).',
              ],
              fix: { summary: `Check that ${c.host}:${c.port} is an SMTP submission server.` },
            };
          }
        }
      }
      return {
        status: 'fail',
        evidence: errors,
        causes: [
          `A firewall or the hosting provider blocks outgoing connections to port ${c.port} (many cloud providers block SMTP ports).`,
          `The port is wrong: Microsoft 365 listens on 587 (STARTTLS)${microsoft ? '' : ' or 465 (implicit TLS)'}.`,
          'The server is down or unreachable from this network.',
        ],
        fix: {
          summary: `Allow outgoing TCP ${c.port} to ${c.host}, and check the port.`,
          commands: [`Test-NetConnection -ComputerName ${c.host} -Port ${c.port}`],
        },
      };
    });
    if (!ok('tcp')) skipTransport('tls', `Skipped: no TCP connection to ${c.host}:${c.port}.`);
  }

  if (ok('tcp') && conn) {
    const d: Dialogue = conn;
    await run('tls', async () => {
      const evidence: string[] = [];
      if (c.security === 'starttls') {
        const ehlo = await d.command(`EHLO ${clientName}`);
        evidence.push(`C: EHLO ${clientName}`, ...ehlo.lines.map((l) => `S: ${l}`));
        if (ehlo.code !== 250) return { status: 'fail', evidence, causes: ['The server refused EHLO.'] };
        const caps = parseCapabilities(ehlo);
        if (!caps.has('STARTTLS'))
          return {
            status: 'fail',
            evidence: [
              ...evidence,
              'The server does not offer STARTTLS: stopped before any credentials were sent.',
            ],
            causes: [
              'Wrong port or host: the server on this port does not offer TLS (Microsoft 365: smtp.office365.com:587 offers STARTTLS).',
              'A firewall, antivirus or proxy strips STARTTLS from the connection (a downgrade attack would look the same).',
              'The server expects implicit TLS (port 465) instead.',
            ],
            fix: {
              summary: microsoft
                ? 'Use host smtp.office365.com, port 587, security "starttls", and make sure nothing between this machine and Microsoft intercepts SMTP.'
                : `Check the host and port; for implicit TLS set port 465 and security "tls". TLS is never optional: the doctor and the mailer refuse to authenticate without it.`,
            },
          };
        const st = await d.command('STARTTLS');
        evidence.push('C: STARTTLS', ...st.lines.map((l) => `S: ${l}`));
        if (st.code !== 220)
          return {
            status: 'fail',
            evidence,
            causes: ['The server advertised STARTTLS but refused it.'],
            fix: { summary: 'Retry later; if it persists, contact the server operator.' },
          };
      }
      try {
        await d.startTls(bareHost, tlsOptions);
      } catch (err) {
        const mapped = errorFromNetwork(err, { host: c.host });
        evidence.push(`TLS handshake with ${c.host}: ${errorText(err)}`);
        const protocolTooOld = /protocol|version/i.test(String((err as Error).message));
        return {
          status: 'fail',
          evidence,
          causes:
            mapped?.code === 'TLS_CERTIFICATE_INVALID'
              ? [
                  `The server's certificate is not valid for ${c.host} (expired, self-signed, unknown CA or another host name).`,
                  'A TLS-intercepting proxy or antivirus presents its own certificate.',
                ]
              : protocolTooOld
                ? ['The server offers only TLS older than 1.2, which is refused.']
                : ['The TLS handshake failed (protocol version, cipher, or the connection was reset).'],
          fix: {
            summary:
              mapped?.code === 'TLS_CERTIFICATE_INVALID'
                ? `Use the host name the certificate was issued for${microsoft ? ' (smtp.office365.com)' : ''}; for a private CA set tls.ca to its PEM certificate. Never turn verification off.`
                : (mapped?.hint ??
                  'Exchange Online requires TLS 1.2 or newer; check that nothing intercepts the connection.'),
            ...(mapped?.code === 'TLS_CERTIFICATE_INVALID' ? { fields: ['host', 'tls.ca'] } : {}),
          },
        };
      }
      const details = d.tlsDetails();
      if (details) {
        evidence.push(
          `negotiated ${details.protocol ?? 'unknown protocol'}${details.cipher ? `, ${details.cipher}` : ''}`,
        );
        evidence.push(
          `certificate ${details.subject ?? '(no subject)'}${details.issuer ? `, issued by ${details.issuer}` : ''}${details.validTo ? `, valid until ${iso(details.validTo.getTime())}` : ''}`,
        );
        evidence.push(`certificate chain verified for ${c.host}`);
      }
      if (c.security === 'tls') {
        const g = await greeting(d);
        evidence.push(...g.lines.map((l) => `S: ${l}`));
      }
      if (details?.protocol && !/^TLSv1\.[23]$/.test(details.protocol))
        return {
          status: 'fail',
          evidence,
          causes: ['The negotiated protocol is older than TLS 1.2.'],
          fix: { summary: 'Use a server that supports TLS 1.2 or newer.' },
        };
      const left = details?.validTo ? details.validTo.getTime() - now() : undefined;
      if (left !== undefined && left < EXPIRY_WARNING_MS)
        return {
          status: 'warn',
          evidence,
          causes: [`The server's certificate expires in ${inMinutes(left)}.`],
          fix: { summary: `Renew the TLS certificate of ${c.host} before it expires (server operator).` },
        };
      return { status: 'ok', evidence };
    });
    if (!ok('tls')) {
      await d.close();
      conn = undefined;
      skipTransport('ehlo', 'Skipped: no TLS connection; credentials are never sent without TLS.');
    }
  }

  if (ok('tls') && conn) {
    const d: Dialogue = conn;
    await run('ehlo', async () => {
      const ehlo = await d.command(`EHLO ${clientName}`);
      const evidence = [`C: EHLO ${clientName}`, ...ehlo.lines.map((l) => `S: ${l}`)];
      if (ehlo.code !== 250)
        return { status: 'fail', evidence, causes: ['The server refused EHLO after TLS.'] };
      const caps = parseCapabilities(ehlo);
      authMechanisms = caps.get('AUTH') ?? [];
      if (c.auth.type === 'oauth2' && !authMechanisms.includes('XOAUTH2'))
        return {
          status: 'fail',
          evidence: [
            ...evidence,
            `AUTH mechanisms offered: ${authMechanisms.join(' ') || '(none)'}; XOAUTH2 is missing`,
          ],
          causes: [
            'This server does not support OAuth2 (XOAUTH2) for SMTP AUTH.',
            microsoft
              ? 'The host is not the client-submission endpoint (use smtp.office365.com:587).'
              : 'The host is a relay, not a submission server.',
          ],
          fix: {
            summary: microsoft
              ? 'Use host smtp.office365.com (or smtp-mail.outlook.com), port 587.'
              : 'Use a submission server that offers AUTH XOAUTH2, or password auth if the provider still allows it.',
          },
        };
      if (c.auth.type === 'password' && !authMechanisms.some((m) => m === 'PLAIN' || m === 'LOGIN'))
        return {
          status: 'fail',
          evidence: [
            ...evidence,
            `AUTH mechanisms offered: ${authMechanisms.join(' ') || '(none)'}; neither PLAIN nor LOGIN`,
          ],
          causes: ['The server does not accept password authentication.'],
          fix: microsoft ? fixes.passwordAuth(v) : { summary: 'Use the authentication the server offers.' },
        };
      return {
        status: 'ok',
        evidence: [...evidence, `AUTH mechanisms offered: ${authMechanisms.join(' ') || '(none)'}`],
      };
    });
    if (!ok('ehlo')) {
      await d.close();
      conn = undefined;
    }
  }

  // ── token / claims ──────────────────────────────────────────────────────────────────────────
  let accessToken: string | undefined;
  let claims: ClaimsView | undefined;
  let tokenError: SmtpOAuthError | undefined;
  if (!oauth) {
    skip('token', `Skipped: auth type is ${c.auth.type}; no token is used.`);
    skip('claims', `Skipped: auth type is ${c.auth.type}; no token is used.`);
  } else {
    await run('token', async () => {
      // The leg the token takes: directly, or through a proxy (the entry's, else the environment's).
      const proxy = proxyFor(c.proxy?.url ?? options.proxy, oauth.tokenEndpoint);
      const route = proxy
        ? `through the proxy ${proxyLabel(proxy)} (HTTP CONNECT)`
        : 'directly (no proxy configured)';
      let provider: DiagnoseTokenProvider;
      try {
        provider = options.tokenProvider ?? defaultTokenProvider(c, options);
      } catch (err) {
        return { status: 'fail', evidence: [errorText(err)] };
      }
      const t0 = now();
      try {
        const token = await withTimeout(
          provider.getToken({ forceRefresh: true }),
          options.tokenTimeoutMs ?? 30_000,
          `Token request to ${oauth.tokenEndpoint}`,
        );
        accessToken = token.accessToken;
        const expiresAt = token.expiresAt instanceof Date ? token.expiresAt.getTime() : token.expiresAt;
        const lifetime = expiresAt - t0;
        const evidence = [
          `POST ${oauth.tokenEndpoint} (client_credentials, scope ${oauth.scope}, ${describeCredential(c)}) ${route}`,
          `access token received, expires at ${iso(expiresAt)} (in ${inMinutes(lifetime)})`,
        ];
        if (lifetime < MIN_TOKEN_LIFETIME_MS)
          return {
            status: 'warn',
            evidence,
            causes: [
              `The token lives only ${inMinutes(lifetime)}; the cache refreshes tokens 5 min before expiry, so short lifetimes cause a token request for almost every message.`,
            ],
            fix: {
              summary:
                'Check the token lifetime policy of the tenant (Entra issues about 60–90 min by default) and that this machine’s clock is correct.',
            },
          };
        return { status: 'ok', evidence };
      } catch (err) {
        const outcome = tokenFailure(err, v, certificate, (e) => {
          tokenError = e;
        });
        return {
          ...outcome,
          evidence: [...(outcome.evidence ?? []), `POST ${oauth.tokenEndpoint} ${route}`],
        };
      }
    });
    if (accessToken) {
      const token = accessToken;
      await run('claims', async () =>
        inspectClaims(token, c, v, now, (cv) => {
          claims = cv;
        }),
      );
    } else skip('claims', 'Skipped: no access token.');
  }

  // ── auth ────────────────────────────────────────────────────────────────────────────────────
  const transcriptFrom = (d: Dialogue, index: number) => d.transcript.slice(index);
  if (c.auth.type === 'none') skip('auth', 'Skipped: auth type is none.');
  else if (!ok('ehlo') || !conn)
    skip('auth', 'Skipped: no TLS-protected SMTP session with the needed AUTH mechanism.');
  else if (oauth && !accessToken)
    skip('auth', `Skipped: no access token${tokenError ? ` (${tokenError.code})` : ''}.`);
  else {
    await run('auth', async () => {
      const evidence: string[] = [];
      if (!conn || conn.closed) {
        // The server may drop an idle session while a slow token request runs: reconnect quietly.
        conn = await reconnect(
          c,
          connectedAddress ?? addresses[0] ?? c.host,
          timeoutMs,
          clientName,
          tlsOptions,
        );
        evidence.push('(the server closed the idle session while the token was fetched; reconnected)');
      }
      const d: Dialogue = conn;
      const mark = d.transcript.length;
      let reply: SmtpReply;
      let challenge: string | undefined;
      if (oauth && accessToken) {
        // RFC 4954 §4: the dialogue picks the one-line or the two-step form by the line length.
        const sasl = await d.authenticate(
          'XOAUTH2',
          xoauth2InitialResponse(c.user, accessToken),
          `<XOAUTH2 blob for ${c.user}, redacted>`,
        );
        reply = sasl.reply;
        // Google-style failure: a base64 JSON challenge first, the 535 after an empty response.
        if (sasl.challenge !== undefined) challenge = describeChallenge(sasl.challenge);
      } else {
        const password = c.auth.type === 'password' ? c.auth.password : '';
        if (authMechanisms.includes('PLAIN')) {
          const blob = Buffer.from(`\0${c.user}\0${password}`).toString('base64');
          reply = await d.command(`AUTH PLAIN ${blob}`, 'AUTH PLAIN <credentials, redacted>');
        } else {
          reply = await d.command('AUTH LOGIN');
          if (reply.code === 334)
            reply = await d.command(Buffer.from(c.user).toString('base64'), '<user, base64>');
          if (reply.code === 334)
            reply = await d.command(Buffer.from(password).toString('base64'), '<password, redacted>');
        }
      }
      evidence.push(...transcriptFrom(d, mark));
      if (challenge) evidence.push(`challenge (decoded): ${challenge}`);
      if (reply.code === 235) {
        if (c.auth.type === 'password' && microsoft)
          return {
            status: 'warn',
            evidence,
            causes: ['Password (basic) SMTP AUTH on Microsoft 365 is deprecated and will be refused.'],
            fix: fixes.passwordAuth(v),
          };
        const inferred = rbacInferred(c, claims);
        if (inferred) return { status: 'warn', evidence, ...inferred };
        return { status: 'ok', evidence };
      }
      return authFailure(reply, evidence, c, v, claims);
    });
  }
  // The claims step judged a token without roles by the classic model; AUTH proved the tenant uses
  // RBAC for Applications, so that verdict is replaced by what was inferred.
  const inferred = ok('auth') ? rbacInferred(c, claims) : undefined;
  const claimsStep = done.get('claims');
  if (inferred && claimsStep?.status === 'fail') {
    claimsStep.status = 'warn';
    claimsStep.causes = inferred.causes;
    claimsStep.fix = inferred.fix;
  }
  if (!ok('auth') && conn) {
    await conn.close();
    conn = undefined;
  }

  // ── mail / message ──────────────────────────────────────────────────────────────────────────
  const recipient = options.testRecipient ?? options.sendTestTo ?? c.user;
  const authOk = ok('auth') || (c.auth.type === 'none' && ok('ehlo'));
  if (!authOk || !conn) {
    const reason =
      done.get('auth')?.status === 'skipped'
        ? 'Skipped: no SMTP session.'
        : 'Skipped: authentication failed.';
    skip('mail', reason);
    skip('message', reason);
  } else {
    const d: Dialogue = conn;
    await run('mail', async () => {
      const mark = d.transcript.length;
      const mail = await d.command(`MAIL FROM:<${from}>`);
      let rcpt: SmtpReply | undefined;
      if (mail.code === 250) rcpt = await d.command(`RCPT TO:<${recipient}>`);
      let evidence = transcriptFrom(d, mark);
      const bad = mail.code !== 250 ? mail : rcpt && rcpt.code >= 300 ? rcpt : undefined;
      if (bad) return smtpRefusal(bad, evidence, c, v, bad === mail ? 'MAIL FROM' : 'RCPT TO', claims);
      if (!options.sendTestTo) {
        const rset = await d.command('RSET');
        evidence = transcriptFrom(d, mark);
        if (rset.code !== 250) evidence.push('(RSET was refused)');
      }
      const exchange = microsoft || oauth?.provider === 'entra';
      if (exchange && !options.sendTestTo)
        evidence.push(
          'Exchange checks the mailbox permission (FullAccess) and SendAs only at the end of DATA; send a test message to verify them.',
        );
      if (exchange && from.toLowerCase() !== c.user.toLowerCase() && !options.sendTestTo)
        return {
          status: 'warn',
          evidence,
          causes: [
            `From ${from} differs from the mailbox ${c.user}: it needs the SendAs right, which Exchange checks only when a message is submitted.`,
          ],
          fix: fixes.sendAs(v),
        };
      return { status: 'ok', evidence };
    });
    if (!options.sendTestTo)
      skip(
        'message',
        'Skipped: no test message requested (give a test recipient to check mailbox permission and SendAs).',
      );
    else if (!ok('mail')) skip('message', 'Skipped: the envelope was refused.');
    else {
      const to = options.sendTestTo;
      await run('message', async () => {
        const mark = d.transcript.length;
        const data = await d.command('DATA');
        if (data.code !== 354) return smtpRefusal(data, transcriptFrom(d, mark), c, v, 'DATA', claims);
        const lines = testMessage(from, to, c.host, now());
        d.write(lines.join('\r\n'), `<test message, ${lines.length} lines>`);
        const reply = await d.command('.');
        const evidence = transcriptFrom(d, mark);
        if (reply.code === 250)
          return { status: 'ok', evidence: [...evidence, `test message accepted for ${to}`] };
        return smtpRefusal(reply, evidence, c, v, 'end of DATA', claims);
      });
    }
  }
  if (conn) await conn.close();
  return finish(steps);

  function finish(all: DiagnosticStep[]): DiagnoseResult {
    const failed = all.find((s) => s.status === 'fail');
    const warned = all.filter((s) => s.status === 'warn');
    let summary: string;
    if (failed) {
      const headline = failed.causes?.[0] ?? failed.evidence[failed.evidence.length - 1] ?? '';
      summary = `${failed.title} failed${headline ? `: ${headline}` : ''}`;
    } else if (warned.length)
      summary = `All checks passed with ${warned.length} warning${warned.length > 1 ? 's' : ''} (${warned.map((s) => s.id).join(', ')})`;
    else summary = 'All checks passed';
    return { ok: !failed, steps: all, summary };
  }
}

async function reconnect(
  c: EmailServerConfig,
  address: string,
  timeoutMs: number,
  clientName: string,
  tls: { ca?: string | string[]; minVersion: 'TLSv1.2' },
): Promise<SmtpDialogue> {
  const host = c.host.replace(/^\[(.*)\]$/, '$1');
  const d = await SmtpDialogue.open({ address, port: c.port, timeoutMs });
  if (c.security === 'starttls') {
    await d.read();
    await d.command(`EHLO ${clientName}`);
    const st = await d.command('STARTTLS');
    if (st.code !== 220) throw new Error(`STARTTLS refused on reconnect: ${st.text}`);
    await d.startTls(host, tls);
  } else {
    await d.startTls(host, tls);
    await d.read();
  }
  await d.command(`EHLO ${clientName}`);
  return d;
}
