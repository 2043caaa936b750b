import { isMicrosoftHost } from '../../config/microsoft.js';
import { type ConfigWarning, parseConfig } from '../../config/parse.js';
import type { EmailServerConfig } from '../../config/schema.js';
import { type CertificateCredential, loadCertificateCredential } from '../../credentials/index.js';
import { type FixValues, fixes, fixValues } from '../../setup/fixes.js';
import { moveToOAuth2Fix } from '../findings.js';
import type { DiagnoseOptions, DiagnosticFix } from '../types.js';
import { errorText, iso, mergeFixes, type Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';

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

/** The entry's credential in words, never its value (config and token evidence). */
export function describeCredential(config: EmailServerConfig): string {
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

function stateOf(
  c: EmailServerConfig,
  certificate: CertificateCredential | undefined,
  options: DiagnoseOptions,
  now: () => number,
): DiagnosisState {
  const from = options.from ?? c.from ?? c.user;
  return {
    config: c,
    ...(certificate ? { certificate } : {}),
    from,
    fixValues: fixValues(c, from),
    microsoft: isMicrosoftHost(c.host),
    ...(c.auth.type === 'oauth2' ? { oauth: c.auth } : {}),
    // An IPv6 literal may be written in brackets; sockets and TLS want it bare.
    bareHost: c.host.replace(/^\[(.*)\]$/, '$1'),
    tlsOptions: { ca: options.ca ?? c.tls?.ca, minVersion: 'TLSv1.2' },
    now,
    timeoutMs: options.timeoutMs ?? 15_000,
    clientName: options.clientName ?? 'smtp-oauth-doctor',
    addresses: [],
    authMechanisms: [],
  };
}

/**
 * Step `config`: parses the entry and loads its certificate; nothing is contacted. On success it
 * creates the {@link DiagnosisState} every later step reads.
 */
export async function checkConfig(
  input: unknown,
  options: DiagnoseOptions,
): Promise<{ outcome: Outcome; state?: DiagnosisState }> {
  const now = options.now ?? Date.now;
  const parsed = parseConfig(input);
  if (!parsed.ok)
    return {
      outcome: {
        status: 'fail',
        evidence: parsed.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)),
        causes: ['The entry has invalid or missing fields; nothing was contacted.'],
        fix: { summary: 'Correct each field named above, then run the doctor again.' },
      },
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
      outcome: {
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
      },
    };
  }
  const certificate = loaded.credential;
  const state = stateOf(c, certificate, options, now);
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
  return {
    outcome: causes.length
      ? { status: 'warn', evidence, causes, ...(fix ? { fix } : {}) }
      : { status: 'ok', evidence },
    state,
  };
}
