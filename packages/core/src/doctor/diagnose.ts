import { performance } from 'node:perf_hooks';
import type { EmailServerConfig } from '../config/schema.js';
import { redactSecrets } from '../errors/redact.js';
import { checkAuth } from './steps/auth.js';
import { checkClaims, reviseClaimsAfterAuth } from './steps/claims.js';
import { checkConfig } from './steps/config.js';
import { checkDns } from './steps/dns.js';
import { checkEnvelope } from './steps/envelope.js';
import { checkMessage } from './steps/message.js';
import type { DiagnosisState } from './steps/state.js';
import { checkToken } from './steps/token.js';
import { checkEhlo, checkTcp, checkTls } from './steps/transport.js';
import type { DiagnoseOptions, DiagnoseResult, DiagnosticStep, DiagnosticStepId } from './types.js';
import { errorText, type Outcome } from './util.js';

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
  const close = async (s: DiagnosisState) => {
    await s.conn?.close();
    s.conn = undefined;
  };

  let created: DiagnosisState | undefined;
  await run('config', async () => {
    const checked = await checkConfig(config, options);
    created = checked.state;
    return checked.outcome;
  });
  if (!created) {
    skipRest('dns', 'Skipped: the configuration is invalid.');
    return finish(steps);
  }
  const state: DiagnosisState = created;
  const c = state.config;

  await run('dns', () => checkDns(state, options));
  if (!ok('dns')) skipTransport('tcp', `Skipped: ${c.host} could not be resolved.`);

  if (ok('dns')) {
    await run('tcp', () => checkTcp(state, options));
    if (!ok('tcp')) skipTransport('tls', `Skipped: no TCP connection to ${c.host}:${c.port}.`);
  }
  if (ok('tcp') && state.conn) {
    await run('tls', () => checkTls(state, options));
    if (!ok('tls')) {
      await close(state);
      skipTransport('ehlo', 'Skipped: no TLS connection; credentials are never sent without TLS.');
    }
  }
  if (ok('tls') && state.conn) {
    await run('ehlo', () => checkEhlo(state, options));
    if (!ok('ehlo')) await close(state);
  }

  if (!state.oauth) {
    skip('token', `Skipped: auth type is ${c.auth.type}; no token is used.`);
    skip('claims', `Skipped: auth type is ${c.auth.type}; no token is used.`);
  } else {
    await run('token', () => checkToken(state, options));
    if (state.accessToken) await run('claims', () => checkClaims(state, options));
    else skip('claims', 'Skipped: no access token.');
  }

  if (c.auth.type === 'none') skip('auth', 'Skipped: auth type is none.');
  else if (!ok('ehlo') || !state.conn)
    skip('auth', 'Skipped: no TLS-protected SMTP session with the needed AUTH mechanism.');
  else if (state.oauth && !state.accessToken)
    skip('auth', `Skipped: no access token${state.tokenError ? ` (${state.tokenError.code})` : ''}.`);
  else await run('auth', () => checkAuth(state, options));
  if (ok('auth')) reviseClaimsAfterAuth(state, done.get('claims'));
  if (!ok('auth') && state.conn) await close(state);

  const authOk = ok('auth') || (c.auth.type === 'none' && ok('ehlo'));
  if (!authOk || !state.conn) {
    const reason =
      done.get('auth')?.status === 'skipped'
        ? 'Skipped: no SMTP session.'
        : 'Skipped: authentication failed.';
    skip('mail', reason);
    skip('message', reason);
  } else {
    await run('mail', () => checkEnvelope(state, options));
    if (!options.sendTestTo)
      skip(
        'message',
        'Skipped: no test message requested (give a test recipient to check mailbox permission and SendAs).',
      );
    else if (!ok('mail')) skip('message', 'Skipped: the envelope was refused.');
    else await run('message', () => checkMessage(state, options));
  }
  if (state.conn) await state.conn.close();
  return finish(steps);
}

/** The one-line verdict: the first failure with its likeliest cause, else the warnings. */
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
