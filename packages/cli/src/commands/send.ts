import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { MailMessage, SendResult } from '@org/core';
import {
  type Batch,
  type BatchRow,
  type BatchValue,
  parseBatch,
  recipients,
  render,
  serializeBatch,
  stringify,
  templateFields,
} from '../batch.js';
import {
  type CommandContext,
  environmentProxy,
  loadCore,
  loadEntry,
  readCa,
  UsageError,
  withConfigCa,
} from '../context.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { exitCodeFor, reportError, withContext } from '../report.js';
import type { CliIo } from '../output.js';
import { createProgressBar } from '../progress.js';
import { isServerUrl, sendThroughServer } from './send-server.js';

const OPTIONS = {
  to: { type: 'string', multiple: true },
  cc: { type: 'string', multiple: true },
  bcc: { type: 'string', multiple: true },
  from: { type: 'string' },
  subject: { type: 'string' },
  text: { type: 'string' },
  html: { type: 'string' },
  attach: { type: 'string', multiple: true },
  batch: { type: 'string' },
  'retry-file': { type: 'string' },
  'api-key': { type: 'string' },
  wait: { type: 'boolean' },
} as const;

const ERROR_COLUMNS = ['error_code', 'error_message'];
/**
 * Columns a retry row carries from the command line, so the retry file alone resends the same
 * message (the templates stay unrendered: each row fills them again).
 */
const MESSAGE_COLUMNS = ['subject', 'text', 'html', 'from', 'cc', 'bcc'] as const;
/** The Message-ID of a row whose outcome is unknown: a resend carries it, so it can be deduplicated. */
const MESSAGE_ID_COLUMN = 'message_id';
/** Failures that no later row can escape (credentials, consent, mailbox): the batch stops at them. */
const STOP_CODES =
  /^(TOKEN_(?!THROTTLED|SERVICE_UNAVAILABLE)|SMTP_AUTH_|SMTP_SECURITY_DEFAULTS|SMTP_BASIC_AUTH_DISABLED|SMTP_MAILBOX_LOGON_FAILED|CREDENTIAL_)/;
/** Concurrent sends in a batch; the mailer's pool and rate limit decide the actual pace. */
const BATCH_CONCURRENCY = 3;

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

interface Bodies {
  text?: string;
  html?: string;
}

async function readBodies(
  ctx: CommandContext,
  values: Record<string, unknown>,
  allowImplicitStdin: boolean,
): Promise<Bodies> {
  const bodies: Bodies = {};
  const textArg = values.text as string | undefined;
  const htmlArg = values.html as string | undefined;
  if (textArg === '-' && htmlArg === '-')
    throw new UsageError('only one of --text and --html can read stdin');
  const read = async (arg: string, flag: string) => {
    if (arg === '-') return readStdin(ctx.io);
    try {
      return await readFile(resolve(ctx.io.cwd, arg), 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${flag} ${arg} (${(err as { code?: string }).code ?? 'error'})`);
    }
  };
  if (textArg !== undefined) bodies.text = await read(textArg, '--text');
  if (htmlArg !== undefined) bodies.html = await read(htmlArg, '--html');
  if (textArg === undefined && htmlArg === undefined && allowImplicitStdin && ctx.io.stdin.isTTY !== true)
    bodies.text = await readStdin(ctx.io);
  return bodies;
}

async function readAttachments(ctx: CommandContext, paths: string[]): Promise<MailMessage['attachments']> {
  return Promise.all(
    paths.map(async (p) => {
      try {
        return { filename: basename(p), content: new Uint8Array(await readFile(resolve(ctx.io.cwd, p))) };
      } catch (err) {
        throw new UsageError(`cannot read --attach ${p} (${(err as { code?: string }).code ?? 'error'})`);
      }
    }),
  );
}

function defaultRetryPath(batchPath: string, format: Batch['format']): string {
  const ext = extname(batchPath);
  const stem = basename(batchPath, ext);
  return join(dirname(batchPath), `${stem}.failed.${format === 'csv' ? 'csv' : 'jsonl'}`);
}

interface Failure {
  row: number;
  line: number;
  to: string[];
  code: string;
  message: string;
  exitCode: ExitCodeValue;
  /** Set when the server may have the message (SMTP_OUTCOME_UNKNOWN). */
  messageId?: string;
}

/** POSIX shell quoting for the printed retry command. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function sendBatch(
  ctx: CommandContext,
  values: Record<string, unknown>,
  core: typeof import('@org/core'),
  mailer: import('@org/core').Mailer,
): Promise<number> {
  const batchPath = resolve(ctx.io.cwd, values.batch as string);
  let text: string;
  try {
    text = await readFile(batchPath, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read --batch ${values.batch} (${(err as { code?: string }).code ?? 'error'})`,
    );
  }
  const batch = parseBatch(batchPath, text);
  const bodies = await readBodies(ctx, values, false);
  const attachments = await readAttachments(ctx, list(values.attach));
  const subjectArg = values.subject as string | undefined;

  // Every template must be fillable for every row before anything is sent.
  const problems: string[] = [];
  batch.rows.forEach((row, i) => {
    const templates = [
      stringify(row.subject) || subjectArg,
      stringify(row.text) || bodies.text,
      stringify(row.html) || bodies.html,
    ];
    const missing = [...new Set(templates.flatMap(templateFields))].filter((f) => !(f in row));
    if (missing.length)
      problems.push(`line ${batch.lines[i]}: no value for ${missing.map((m) => `{{${m}}}`).join(', ')}`);
    if (
      recipients(row.to).length + recipients(row.cc).length + recipients(row.bcc).length === 0 &&
      list(values.to).length === 0
    )
      problems.push(`line ${batch.lines[i]}: no recipient (a "to" column or --to)`);
  });
  if (problems.length)
    throw new UsageError(
      `${batchPath}: ${problems.length} row(s) cannot be sent:\n  ${problems.slice(0, 20).join('\n  ')}`,
      `Columns available: ${batch.columns.join(', ')}`,
    );

  const messageFor = (row: BatchRow): MailMessage => {
    const subject = stringify(row.subject) || subjectArg;
    const textBody = stringify(row.text) || bodies.text;
    const htmlBody = stringify(row.html) || bodies.html;
    const to = recipients(row.to);
    return {
      to: to.length ? to : list(values.to),
      ...(recipients(row.cc).length
        ? { cc: recipients(row.cc) }
        : list(values.cc).length
          ? { cc: list(values.cc) }
          : {}),
      ...(recipients(row.bcc).length
        ? { bcc: recipients(row.bcc) }
        : list(values.bcc).length
          ? { bcc: list(values.bcc) }
          : {}),
      ...(stringify(row.from) || values.from ? { from: stringify(row.from) || (values.from as string) } : {}),
      ...(subject !== undefined ? { subject: render(subject, row) } : {}),
      ...(textBody !== undefined ? { text: render(textBody, row) } : {}),
      ...(htmlBody !== undefined ? { html: render(htmlBody, row, true) } : {}),
      ...(attachments?.length ? { attachments } : {}),
      ...(stringify(row[MESSAGE_ID_COLUMN]) ? { messageId: stringify(row[MESSAGE_ID_COLUMN]) } : {}),
    };
  };

  const total = batch.rows.length;
  const progress = createProgressBar(ctx.io.stderr, total, {
    enabled: !ctx.globals.json && !ctx.globals.quiet,
  });
  const failures: Failure[] = [];
  const results: (SendResult | undefined)[] = new Array(total);
  let next = 0;
  let done = 0;
  let abortedBy: string | undefined;
  const worker = async () => {
    for (;;) {
      if (abortedBy) return;
      const i = next++;
      if (i >= total) return;
      const row = batch.rows[i] as BatchRow;
      try {
        results[i] = await mailer.send(messageFor(row));
      } catch (err) {
        const e = err as { code?: string; message?: string; details?: { messageId?: unknown } };
        failures.push({
          row: i + 1,
          line: batch.lines[i] ?? i + 1,
          to: recipients(row.to),
          code: typeof e.code === 'string' ? e.code : 'INTERNAL',
          message: core.redactSecrets(e.message ?? String(err)),
          exitCode: exitCodeFor(err),
          ...(typeof e.details?.messageId === 'string' ? { messageId: e.details.messageId } : {}),
        });
        // Every further row would fail the same way (and hammer the token endpoint): stop.
        if (typeof e.code === 'string' && STOP_CODES.test(e.code)) abortedBy ??= e.code;
      }
      done++;
      progress.update(done, failures.length ? `${failures.length} failed` : '');
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, total) }, worker));
  progress.stop();
  for (let i = next; i < total && abortedBy; i++) {
    const row = batch.rows[i] as BatchRow;
    failures.push({
      row: i + 1,
      line: batch.lines[i] ?? i + 1,
      to: recipients(row.to),
      code: 'NOT_SENT',
      message: `not attempted: the batch stopped after ${abortedBy}`,
      exitCode: ExitCode.Auth,
    });
  }
  failures.sort((a, b) => a.row - b.row);

  let retryFile: string | undefined;
  if (failures.length) {
    retryFile = resolve(
      ctx.io.cwd,
      (values['retry-file'] as string | undefined) ?? defaultRetryPath(batchPath, batch.format),
    );
    // Regression: the retry file held only the CSV columns, so resending it (as printed) sent
    // mail without the --subject/--text/--html of the original command. Now it is self-contained.
    const fromOptions: BatchRow = {};
    if (subjectArg !== undefined) fromOptions.subject = subjectArg;
    if (bodies.text !== undefined) fromOptions.text = bodies.text;
    if (bodies.html !== undefined) fromOptions.html = bodies.html;
    if (values.from) fromOptions.from = values.from as string;
    if (list(values.cc).length) fromOptions.cc = list(values.cc).join(',');
    if (list(values.bcc).length) fromOptions.bcc = list(values.bcc).join(',');
    const defaultTo = list(values.to).join(',');
    const rows = failures.map((f) => {
      const original = batch.rows[f.row - 1] as BatchRow;
      const row: BatchRow = { ...original };
      for (const c of MESSAGE_COLUMNS)
        if (!stringify(row[c]) && fromOptions[c] !== undefined) row[c] = fromOptions[c] as BatchValue;
      if (!recipients(row.to).length && defaultTo) row.to = defaultTo;
      if (f.messageId) row[MESSAGE_ID_COLUMN] = f.messageId;
      row.error_code = f.code;
      row.error_message = f.message;
      return row;
    });
    const used = (c: string) => rows.some((r) => r[c] !== undefined && r[c] !== '');
    const columns = [
      ...batch.columns.filter((c) => !ERROR_COLUMNS.includes(c) && c !== MESSAGE_ID_COLUMN),
      ...[...MESSAGE_COLUMNS, 'to'].filter((c) => !batch.columns.includes(c) && used(c)),
      ...(used(MESSAGE_ID_COLUMN) ? [MESSAGE_ID_COLUMN] : []),
      ...ERROR_COLUMNS,
    ];
    await writeFile(retryFile, serializeBatch(batch.format, columns, rows));
  }
  // The printed command resends exactly these rows: the same entry, CA and attachments.
  const retryCommand = retryFile
    ? [
        'smtp-oauth',
        'send',
        '--batch',
        retryFile,
        ...(ctx.globals.config ? ['--config', resolve(ctx.io.cwd, ctx.globals.config)] : []),
        ...(ctx.globals.ca ? ['--ca', resolve(ctx.io.cwd, ctx.globals.ca)] : []),
        ...list(values.attach).flatMap((a) => ['--attach', resolve(ctx.io.cwd, a)]),
      ]
        .map(shellQuote)
        .join(' ')
    : undefined;

  const sent = total - failures.length;
  const byCode = new Map<string, number>();
  for (const f of failures) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
  const exitCode: ExitCodeValue = !failures.length
    ? ExitCode.Ok
    : failures.some((f) => f.exitCode === ExitCode.Auth)
      ? ExitCode.Auth
      : failures.some((f) => f.exitCode === ExitCode.OutcomeUnknown)
        ? ExitCode.OutcomeUnknown
        : failures.every((f) => f.exitCode === ExitCode.Transient)
          ? ExitCode.Transient
          : ExitCode.Permanent;

  if (ctx.globals.json) {
    ctx.out.json({
      ok: failures.length === 0,
      exitCode,
      total,
      sent,
      failed: failures.length,
      failures: failures.map(({ exitCode: _x, ...f }) => f),
      // Each sent row's Message-ID, so a script can correlate replies and bounces with its rows.
      sentRows: results.flatMap((r, i) =>
        r ? [{ row: i + 1, line: batch.lines[i] ?? i + 1, messageId: r.messageId }] : [],
      ),
      ...(abortedBy ? { stoppedAfter: abortedBy } : {}),
      ...(retryFile ? { retryFile, retryCommand } : {}),
    });
    return exitCode;
  }
  const s = ctx.out.symbols;
  ctx.out.line(`${failures.length ? s.warn : s.ok} sent ${sent} of ${total}, failed ${failures.length}`);
  for (const [code, n] of byCode) ctx.out.line(`  ${code} × ${n}`);
  for (const f of failures.slice(0, 10))
    ctx.out.line(
      `  ${s.fail} line ${f.line} ${f.to.join(', ')}: ${f.code} ${ctx.out.style('dim', f.message)}`,
    );
  if (failures.length > 10) ctx.out.line(`  … ${failures.length - 10} more`);
  if (abortedBy) ctx.out.line(`  stopped after ${abortedBy}: fix it (smtp-oauth doctor), then retry`);
  const unknown = failures.filter((f) => f.code === 'SMTP_OUTCOME_UNKNOWN').length;
  if (unknown)
    ctx.out.line(
      `  ${unknown} may have been delivered (outcome unknown): their rows keep the Message-ID, so a resend can be recognised as a duplicate`,
    );
  if (retryCommand) ctx.out.line(`  retry the failed rows with: ${retryCommand}`);
  if (failures.length && ctx.globals.quiet)
    ctx.out.error(`failed ${failures.length} of ${total}; retry file ${retryFile}`);
  return exitCode;
}

export default function send(argv: string[], io: CliIo): Promise<number> {
  return withContext(argv, io, OPTIONS, async (ctx, values) => {
    if (!values.batch && list(values.to).length + list(values.cc).length + list(values.bcc).length === 0)
      throw new UsageError('no recipient: give --to (or --cc/--bcc), or --batch FILE');
    if (isServerUrl(ctx.globals.server)) {
      const attachments = await readAttachments(ctx, list(values.attach));
      return sendThroughServer(ctx, values, {
        to: list(values.to),
        ...(list(values.cc).length ? { cc: list(values.cc) } : {}),
        ...(list(values.bcc).length ? { bcc: list(values.bcc) } : {}),
        ...(values.from ? { from: values.from as string } : {}),
        ...(values.subject !== undefined ? { subject: values.subject as string } : {}),
        ...(values.batch ? {} : await readBodies(ctx, values, true)),
        ...(attachments?.length ? { attachments } : {}),
      });
    }
    const core = await loadCore(ctx);
    const ca = await readCa(ctx);
    const entry = await loadEntry(ctx, core);
    for (const w of entry.warnings) ctx.out.warn(`${ctx.out.symbols.warn} ${w.path}: ${w.message}`);
    // The mailer trusts `ca` for the token endpoint too (core defaults the token CA to the SMTP one).
    const proxy = environmentProxy(ctx);
    const mailer = core.createMailer(entry.config, {
      ...(ca ? { ca: withConfigCa(entry.config, ca) as string } : {}),
      ...(proxy ? { token: { proxy } } : {}),
    });
    try {
      if (values.batch) return await sendBatch(ctx, values, core, mailer);
      const bodies = await readBodies(ctx, values, true);
      const attachments = await readAttachments(ctx, list(values.attach));
      const message: MailMessage = {
        to: list(values.to),
        ...(list(values.cc).length ? { cc: list(values.cc) } : {}),
        ...(list(values.bcc).length ? { bcc: list(values.bcc) } : {}),
        ...(values.from ? { from: values.from as string } : {}),
        ...(values.subject !== undefined ? { subject: values.subject as string } : {}),
        ...bodies,
        ...(attachments?.length ? { attachments } : {}),
      };
      let result: SendResult;
      try {
        result = await mailer.send(message);
      } catch (err) {
        return reportError(ctx, err);
      }
      if (ctx.globals.json) ctx.out.json({ ok: true, ...result });
      else {
        ctx.out.line(`${ctx.out.symbols.ok} sent ${result.messageId} to ${result.accepted.join(', ')}`);
        if (result.rejected.length)
          ctx.out.line(`  ${ctx.out.symbols.warn} refused: ${result.rejected.join(', ')}`);
        ctx.out.line(ctx.out.style('dim', `  ${result.response}`));
      }
      return ExitCode.Ok;
    } finally {
      await mailer.close();
    }
  });
}
