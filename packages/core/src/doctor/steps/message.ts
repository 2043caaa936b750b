import { smtpRefusal } from '../findings.js';
import type { SmtpDialogue } from '../smtp-dialogue.js';
import type { DiagnoseOptions } from '../types.js';
import type { Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';

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

/**
 * Step `message`: DATA with a small test message to `options.sendTestTo`; only then does Exchange
 * check the mailbox permission (430 4.2.0) and SendAs (554 5.2.252).
 */
export async function checkMessage(state: DiagnosisState, options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, fixValues: v, from, claims, now } = state;
  const d = state.conn as SmtpDialogue;
  const to = options.sendTestTo;
  if (!to) throw new Error('the message step needs a test recipient');
  const mark = d.transcript.length;
  const data = await d.command('DATA');
  if (data.code !== 354) return smtpRefusal(data, d.transcript.slice(mark), c, v, 'DATA', claims);
  const lines = testMessage(from, to, c.host, now());
  d.write(lines.join('\r\n'), `<test message, ${lines.length} lines>`);
  const reply = await d.command('.');
  const evidence = d.transcript.slice(mark);
  if (reply.code === 250) return { status: 'ok', evidence: [...evidence, `test message accepted for ${to}`] };
  return smtpRefusal(reply, evidence, c, v, 'end of DATA', claims);
}
