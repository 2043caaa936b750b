import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DiagnoseOptions } from '../types.js';
import { errorText, type Outcome, withTimeout } from '../util.js';
import type { DiagnosisState } from './state.js';

/** Step `dns`: resolves the SMTP host (an IP literal needs no lookup) into `state.addresses`. */
export async function checkDns(state: DiagnosisState, options: DiagnoseOptions): Promise<Outcome> {
  const c = state.config;
  if (isIP(state.bareHost)) {
    state.addresses = [state.bareHost];
    return { status: 'ok', evidence: [`${c.host} is an IP address; no lookup needed`] };
  }
  const lookup = options.lookup ?? ((host: string) => dnsLookup(host, { all: true }));
  try {
    const found = await withTimeout(lookup(state.bareHost), state.timeoutMs, `DNS lookup of ${c.host}`);
    state.addresses = found.map((a) => a.address);
  } catch (err) {
    return {
      status: 'fail',
      evidence: [`lookup ${c.host}: ${errorText(err)}`],
      causes: [
        `The host name ${c.host} is misspelt or does not exist.`,
        'This machine has no working DNS resolver or no network access.',
      ],
      fix: {
        summary: state.microsoft
          ? 'Use smtp.office365.com or smtp-mail.outlook.com as host and check DNS resolution on this machine.'
          : `Check the host name ${c.host} and DNS resolution on this machine.`,
        commands: [`Resolve-DnsName ${c.host}`],
      },
    };
  }
  if (state.addresses.length === 0)
    return {
      status: 'fail',
      evidence: [`lookup ${c.host}: no addresses`],
      causes: ['The host name has no A/AAAA records.'],
    };
  return { status: 'ok', evidence: [`${c.host} → ${state.addresses.join(', ')}`] };
}
