import { performance } from 'node:perf_hooks';
import { errorFromNetwork } from '../../errors/network-errors.js';
import { fixes } from '../../setup/fixes.js';
import { parseCapabilities, type SmtpReply, SmtpDialogue } from '../smtp-dialogue.js';
import type { DiagnoseOptions } from '../types.js';
import { EXPIRY_WARNING_MS, errorText, inMinutes, iso, type Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';

/** Reads the greeting; for implicit TLS it follows the handshake. */
async function greeting(d: SmtpDialogue): Promise<SmtpReply> {
  const reply = await d.read();
  if (reply.code !== 220)
    throw Object.assign(new Error(`unexpected greeting: ${reply.text}`), { code: 'EPROTOCOL' });
  return reply;
}

/**
 * Step `tcp`: connects to the first reachable of up to three resolved addresses and, for STARTTLS,
 * reads the greeting. Leaves the session in `state.conn`.
 */
export async function checkTcp(state: DiagnosisState, _options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, microsoft, timeoutMs } = state;
  const errors: string[] = [];
  for (const address of state.addresses.slice(0, 3)) {
    try {
      const t0 = performance.now();
      state.conn = await SmtpDialogue.open({ address, port: c.port, timeoutMs });
      state.connectedAddress = address;
      const evidence = [`connected to ${address}:${c.port} in ${Math.round(performance.now() - t0)} ms`];
      if (c.security === 'starttls') {
        const g = await greeting(state.conn);
        evidence.push(...g.lines.map((l) => `S: ${l}`));
      }
      return { status: 'ok', evidence: [...errors, ...evidence] };
    } catch (err) {
      errors.push(`${address}:${c.port}: ${errorText(err)}`);
      if (state.conn && !state.connectedAddress) state.conn = undefined;
      if (state.connectedAddress) {
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
}

/**
 * Step `tls`: STARTTLS (or the implicit-TLS handshake), certificate chain checked against the host
 * name, TLS 1.2 or newer; warns when the server's certificate expires soon.
 */
export async function checkTls(state: DiagnosisState, _options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, microsoft, clientName, now } = state;
  const d = state.conn as SmtpDialogue;
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
    await d.startTls(state.bareHost, state.tlsOptions);
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
}

/** Step `ehlo`: EHLO after TLS; the AUTH mechanisms must include the one the entry needs. */
export async function checkEhlo(state: DiagnosisState, _options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, fixValues: v, microsoft, clientName } = state;
  const d = state.conn as SmtpDialogue;
  const ehlo = await d.command(`EHLO ${clientName}`);
  const evidence = [`C: EHLO ${clientName}`, ...ehlo.lines.map((l) => `S: ${l}`)];
  if (ehlo.code !== 250) return { status: 'fail', evidence, causes: ['The server refused EHLO after TLS.'] };
  const caps = parseCapabilities(ehlo);
  const authMechanisms = caps.get('AUTH') ?? [];
  state.authMechanisms = authMechanisms;
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
}

/**
 * Opens a new TLS-protected session after EHLO, for when the server dropped the idle one while a
 * slow token request ran.
 */
export async function reconnect(state: DiagnosisState, address: string): Promise<SmtpDialogue> {
  const { config: c, bareHost: host, timeoutMs, clientName, tlsOptions: tls } = state;
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
