import { xoauth2InitialResponse } from '../../mailer/sasl.js';
import { fixes } from '../../setup/fixes.js';
import { authFailure, describeChallenge, rbacInferred } from '../findings.js';
import type { SmtpDialogue, SmtpReply } from '../smtp-dialogue.js';
import type { DiagnoseOptions } from '../types.js';
import type { Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';
import { reconnect } from './transport.js';

/**
 * Step `auth`: SMTP AUTH with the entry's mechanism (XOAUTH2 with the token, else PLAIN or LOGIN),
 * on the session from the transport steps, reconnecting when the server dropped it meanwhile.
 */
export async function checkAuth(state: DiagnosisState, _options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, fixValues: v, microsoft, oauth, accessToken, authMechanisms, claims } = state;
  const evidence: string[] = [];
  if (!state.conn || state.conn.closed) {
    // The server may drop an idle session while a slow token request runs: reconnect quietly.
    state.conn = await reconnect(state, state.connectedAddress ?? state.addresses[0] ?? c.host);
    evidence.push('(the server closed the idle session while the token was fetched; reconnected)');
  }
  const d: SmtpDialogue = state.conn;
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
  evidence.push(...d.transcript.slice(mark));
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
}
