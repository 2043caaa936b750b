import { fixes } from '../../setup/fixes.js';
import { smtpRefusal } from '../findings.js';
import type { SmtpDialogue, SmtpReply } from '../smtp-dialogue.js';
import type { DiagnoseOptions } from '../types.js';
import type { Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';

/**
 * Step `mail`: MAIL FROM and RCPT TO (then RSET when no test message follows). Exchange checks the
 * mailbox permission and SendAs only at the end of DATA, so without a test message a From other
 * than the mailbox is a warning.
 */
export async function checkEnvelope(state: DiagnosisState, options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, fixValues: v, microsoft, oauth, from, claims } = state;
  const d = state.conn as SmtpDialogue;
  const recipient = options.testRecipient ?? options.sendTestTo ?? c.user;
  const mark = d.transcript.length;
  const mail = await d.command(`MAIL FROM:<${from}>`);
  let rcpt: SmtpReply | undefined;
  if (mail.code === 250) rcpt = await d.command(`RCPT TO:<${recipient}>`);
  let evidence = d.transcript.slice(mark);
  const bad = mail.code !== 250 ? mail : rcpt && rcpt.code >= 300 ? rcpt : undefined;
  if (bad) return smtpRefusal(bad, evidence, c, v, bad === mail ? 'MAIL FROM' : 'RCPT TO', claims);
  if (!options.sendTestTo) {
    const rset = await d.command('RSET');
    evidence = d.transcript.slice(mark);
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
}
