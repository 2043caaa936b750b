import type { DiagnoseResult, DiagnosticStep } from '@org/core';
import {
  type CommandContext,
  environmentProxy,
  loadCore,
  loadEntry,
  readCa,
  UsageError,
  withConfigCa,
} from '../context.js';
import { ExitCode, exitCodeForStep } from '../exit-codes.js';
import { withContext } from '../report.js';
import type { CliIo } from '../output.js';

const OPTIONS = {
  'send-test-to': { type: 'string' },
  from: { type: 'string' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean', default: false },
} as const;

/** Evidence lines shown for a passing step unless --verbose (failures always show everything). */
const OK_EVIDENCE_LINES = 3;
/** Steps whose conclusion comes last in the evidence (the dialogue first, the result after). */
const TAIL_FIRST = new Set(['tcp', 'tls', 'ehlo', 'auth', 'mail', 'message']);

export function renderStep(ctx: CommandContext, step: DiagnosticStep, verbose: boolean): string[] {
  const { out } = ctx;
  const s = out.symbols;
  const mark =
    step.status === 'ok' ? s.ok : step.status === 'fail' ? s.fail : step.status === 'warn' ? s.warn : s.skip;
  const title = step.status === 'fail' ? out.style('bold', step.title) : step.title;
  const time = step.status === 'skipped' ? '' : out.style('dim', ` ${step.durationMs} ms`);
  const lines = [`${mark} ${title}${time}`];
  let evidence = step.evidence;
  if (step.status === 'ok' && !verbose && step.evidence.length > OK_EVIDENCE_LINES + 1) {
    const more = `… ${step.evidence.length - OK_EVIDENCE_LINES} more (--verbose)`;
    evidence = TAIL_FIRST.has(step.id)
      ? [more, ...step.evidence.slice(-OK_EVIDENCE_LINES)]
      : [...step.evidence.slice(0, OK_EVIDENCE_LINES), more];
  }
  for (const e of evidence)
    lines.push(`    ${step.status === 'ok' || step.status === 'skipped' ? out.style('dim', e) : e}`);
  if (step.causes?.length) {
    lines.push(`  ${out.style('bold', 'Probable causes:')}`);
    step.causes.forEach((c, i) => {
      lines.push(`    ${i + 1}. ${c}`);
    });
  }
  if (step.fix) {
    lines.push(`  ${out.style(step.status === 'fail' ? 'red' : 'yellow', 'Fix:')} ${step.fix.summary}`);
    for (const cmd of step.fix.commands ?? []) lines.push(`    ${out.style('cyan', cmd)}`);
    for (const link of step.fix.links ?? []) lines.push(`    → ${link.label}: ${link.url}`);
  }
  return lines;
}

function firstFailed(result: DiagnoseResult): DiagnosticStep | undefined {
  return result.steps.find((s) => s.status === 'fail');
}

export default function doctor(argv: string[], io: CliIo): Promise<number> {
  return withContext(argv, io, OPTIONS, async (ctx, values) => {
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0))
      throw new UsageError('--timeout must be a positive number of milliseconds');
    const core = await loadCore(ctx);
    const ca = await readCa(ctx);
    const verbose = values.verbose === true;

    let entry: Awaited<ReturnType<typeof loadEntry>>;
    try {
      entry = await loadEntry(ctx, core);
    } catch (err) {
      // An invalid entry is the doctor's first finding, not a crash: show it as the config step.
      const issues = (err as { issues?: { path: string; message: string }[] }).issues;
      if (!issues) throw err;
      const step: DiagnosticStep = {
        id: 'config',
        title: 'Configuration',
        status: 'fail',
        durationMs: 0,
        evidence: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)),
        causes: ['The entry has invalid or missing fields; nothing was contacted.'],
        fix: { summary: 'Correct each field named above, then run the doctor again.' },
      };
      const result: DiagnoseResult = { ok: false, steps: [step], summary: 'Configuration failed' };
      if (ctx.globals.json) ctx.out.json({ ...result, exitCode: ExitCode.Usage });
      else for (const l of renderStep(ctx, step, verbose)) ctx.out.line(l);
      return ExitCode.Usage;
    }

    ctx.out.line(ctx.out.style('bold', `smtp-oauth doctor — ${entry.config.name} (${entry.source})`));
    const proxy = environmentProxy(ctx);
    const result = await core.diagnose(entry.config, {
      ...(values['send-test-to'] ? { sendTestTo: String(values['send-test-to']) } : {}),
      ...(values.from ? { from: String(values.from) } : {}),
      ...(ca ? { ca: withConfigCa(entry.config, ca) } : {}),
      ...(proxy ? { proxy } : {}),
      ...(timeout ? { timeoutMs: timeout } : {}),
      onStep: (step) => {
        if (!ctx.globals.json) for (const l of renderStep(ctx, step, verbose)) ctx.out.line(l);
      },
    });
    const exitCode = exitCodeForStep(firstFailed(result)?.id);
    if (ctx.globals.json) {
      ctx.out.json({ ...result, exitCode });
      return exitCode;
    }
    ctx.out.line();
    const s = ctx.out.symbols;
    ctx.out.line(
      result.ok ? `${s.ok} ${result.summary}` : `${s.fail} ${ctx.out.style('bold', result.summary)}`,
    );
    if (!result.ok && ctx.out.options.quiet) ctx.out.error(result.summary);
    return exitCode;
  });
}
