// `smtp-oauth send --server URL --api-key KEY [--wait]`: hand the message to a server's outbox
// instead of sending it here, so a script joins the server's per-mailbox governor (Exchange's
// 3 connections and 30 messages per minute are then kept across every sender of the mailbox).
import { randomUUID } from 'node:crypto';
import { errorCategory, type MailMessage } from '@org/core';
import { type CommandContext, UsageError } from '../context.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { exitCodeFor } from '../report.js';

/** `--server` names a server when it is an http(s) URL; otherwise it is an entry of the config file. */
export function isServerUrl(value: unknown): value is string {
  return typeof value === 'string' && /^https?:\/\//i.test(value);
}

/** Seconds `--wait` waits for the outcome (the server honours at most 120). */
const WAIT_SECONDS = 60;

interface ApiErrorBody {
  error?: { code?: string; message?: string; hint?: string; transient?: boolean };
}

/**
 * POSTs the message to `<server>/api/send` with the API key (`--api-key`, or SMTP_OAUTH_API_KEY)
 * and a fresh Idempotency-Key, so the one retry after a dropped connection never sends twice.
 * Exit codes as for a local send: 0 accepted (or sent, with `--wait`), 2 refused as invalid,
 * 3 key refused, 4 transient (server busy or unreachable, still queued after the wait), 5 permanent.
 */
export async function sendThroughServer(
  ctx: CommandContext,
  values: Record<string, unknown>,
  message: MailMessage,
): Promise<ExitCodeValue> {
  const server = String(ctx.globals.server).replace(/\/+$/, '');
  const apiKey = (values['api-key'] as string | undefined) ?? ctx.io.env.SMTP_OAUTH_API_KEY;
  if (!apiKey) throw new UsageError('--server URL needs --api-key KEY (or SMTP_OAUTH_API_KEY)');
  if (values.batch)
    throw new UsageError('--batch is not supported with --server URL yet; send rows one by one');
  if (message.attachments?.length) throw new UsageError('--attach is not supported with --server URL yet');
  const headers: Record<string, string> = {
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    'idempotency-key': randomUUID(),
    ...(values.wait ? { prefer: `wait=${WAIT_SECONDS}` } : {}),
  };
  const body = JSON.stringify(message);
  let res: Response | undefined;
  for (let attempt = 0; attempt < 2 && !res; attempt++) {
    try {
      res = await fetch(`${server}/api/send`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout((WAIT_SECONDS + 30) * 1000),
      });
    } catch (err) {
      if (attempt === 1) {
        ctx.out.error(`smtp-oauth: cannot reach ${server} (${(err as Error).name})`);
        return ExitCode.Transient;
      }
    }
  }
  const answer = (await res!.json().catch(() => ({}))) as Record<string, unknown> & ApiErrorBody;
  if (res!.status === 200 || res!.status === 202) {
    const sent = res!.status === 200;
    if (ctx.globals.json) ctx.out.json({ ok: true, ...answer });
    else if (sent) {
      ctx.out.line(
        `${ctx.out.symbols.ok} sent ${answer.messageId} to ${(answer.accepted as string[]).join(', ')} (outbox ${answer.id})`,
      );
      ctx.out.line(ctx.out.style('dim', `  ${answer.response}`));
    } else
      ctx.out.line(
        `${ctx.out.symbols.ok} queued ${answer.messageId} at ${server} (outbox ${answer.id}, ${answer.status})`,
      );
    // Asked to wait and still queued: not delivered yet, which a script should see.
    return values.wait && !sent ? ExitCode.Transient : ExitCode.Ok;
  }
  const error = answer.error ?? {};
  if (ctx.globals.json) ctx.out.json({ ok: false, status: res!.status, error });
  else {
    ctx.out.error(`smtp-oauth: ${error.code ?? `HTTP ${res!.status}`}: ${error.message ?? 'refused'}`);
    if (error.hint) ctx.out.error(`  hint: ${error.hint}`);
  }
  // One of core's codes exits by its category, exactly as a direct `send` would (e.g. an expired
  // certificate is 409 on the API but an authentication failure, 3, for scripts).
  const coreError = error.code ? { code: error.code, transient: error.transient ?? false } : undefined;
  if (coreError && errorCategory(coreError)) return exitCodeFor(coreError);
  if (res!.status === 401 || res!.status === 403) return ExitCode.Auth;
  if (res!.status === 503 || res!.status === 429) return ExitCode.Transient;
  if (
    res!.status === 400 ||
    res!.status === 404 ||
    res!.status === 409 ||
    res!.status === 413 ||
    res!.status === 422
  )
    return ExitCode.Usage;
  return coreError ? exitCodeFor(coreError) : ExitCode.Permanent;
}
