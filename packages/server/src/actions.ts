import { isIP } from 'node:net';
import {
  createMessageId,
  type DiagnoseResult,
  diagnose,
  type MailMessage,
  type SendResult,
  type SendTestResult,
  sendTest as coreSendTest,
  testAccessToken,
  validateMessage,
} from '@org/core';
import type { TestCheck, TokenTestResult } from '@org/core/api';
import type { AppContext } from './context.js';
import { tokenUrlCheck } from './guards/token-url.js';
import { ApiError, toApiError } from './http/errors.js';
import { outcomeError, sendResultOf } from './outbox/outcome.js';
import type { OutboxSource } from './outbox/types.js';
import type { EmailServerRecord } from './store/email-servers-repository.js';

export async function getRecordOr404(ctx: AppContext, id: string): Promise<EmailServerRecord> {
  const record = await ctx.repos.emailServers.get(id);
  if (!record) throw new ApiError(404, 'NOT_FOUND', 'No email server with this id');
  return record;
}

/** `code: message` of a failure, for the entry's last-test line (core's messages carry no secrets). */
function failureLine(error: unknown): string {
  const api = toApiError(error);
  return api ? `${api.code}: ${api.message}`.slice(0, 500) : 'INTERNAL: the test could not run';
}

async function recordTest(
  ctx: AppContext,
  id: string,
  check: TestCheck,
  ok: boolean,
  message: string,
): Promise<void> {
  await ctx.repos.emailServers.recordTest(id, { ok, check, message: message.slice(0, 500), at: ctx.now() });
}

/**
 * Fetches a fresh token through the entry's shared token cache (its one MSAL client) and
 * judges it with core's `testAccessToken` (the CLI's `token` command's test). The token stays in this
 * function.
 */
export async function testToken(ctx: AppContext, record: EmailServerRecord): Promise<TokenTestResult> {
  try {
    const runtime = await ctx.runtimes.get(record);
    if (!runtime.tokens)
      throw new ApiError(409, 'NO_TOKEN_AUTH', 'This entry does not use OAuth2, so it has no token to test', {
        hint: "Set auth.type to 'oauth2'",
      });
    const token = await runtime.tokens.getToken({ forceRefresh: true });
    // Core judges the token as the CLI's `token` command does (tenant, permission model, opaque tokens).
    const test = testAccessToken(token, runtime.config, { now: () => ctx.now().getTime() });
    await recordTest(
      ctx,
      record.id,
      'token',
      test.ok,
      test.failed ? `token: ${test.failed.message}` : 'token: received; every claim check passed',
    );
    return {
      ok: test.ok,
      expiresAt: new Date(test.expiresAt).toISOString(),
      tokenType: test.tokenType,
      claims: test.inspection.claims ?? {},
      findings: test.inspection.findings,
    };
  } catch (error) {
    await recordTest(ctx, record.id, 'token', false, failureLine(error));
    throw error;
  }
}

/**
 * Core's doctor over the entry, every step reported. It shares the entry's token cache and connects
 * to the addresses the S6 guard checked (its DNS step sees exactly those).
 */
export async function diagnoseEntry(
  ctx: AppContext,
  record: EmailServerRecord,
  options: { sendTestTo?: string | undefined },
): Promise<DiagnoseResult> {
  try {
    const runtime = await ctx.runtimes.get(record);
    const addresses = runtime.addresses;
    const result = await diagnose(runtime.config, {
      ...(options.sendTestTo ? { sendTestTo: options.sendTestTo } : {}),
      ...(runtime.tokens ? { tokenProvider: runtime.tokens } : {}),
      lookup: async () => addresses.map((address) => ({ address, family: isIP(address) || 4 })),
      now: () => ctx.now().getTime(),
      checkUrl: tokenUrlCheck(() => ctx.tokenPolicy),
      // The token goes through the environment's proxy (runtime.tokens); the report says so.
      ...(ctx.runtimes.proxy ? { proxy: ctx.runtimes.proxy } : {}),
    });
    await recordTest(ctx, record.id, 'diagnose', result.ok, `diagnose: ${result.summary}`);
    return result;
  } catch (error) {
    await recordTest(ctx, record.id, 'diagnose', false, failureLine(error));
    throw error;
  }
}

/** The sender address of a message (its `from`, else the entry's `from` or mailbox): the Message-ID's domain. */
export function senderOf(record: EmailServerRecord, from: { address: string } | undefined): string {
  if (from) return from.address;
  const configured = String(record.config.from ?? record.config.user ?? '');
  return /<([^<>]+)>/.exec(configured)?.[1] ?? configured;
}

/**
 * Sends through the outbox and waits for the outcome (the admin's synchronous actions): the message
 * is stored first, like every other, so it appears in the sent log and its attempts are recorded.
 * @throws ApiError with core's code when it failed; `OUTBOX_PENDING` (504) when still queued after `waitMs`
 */
export async function sendThrough(
  ctx: AppContext,
  record: EmailServerRecord,
  message: MailMessage,
  source: OutboxSource,
  waitMs = 60_000,
): Promise<SendResult> {
  const normalized = validateMessage(message);
  const accepted = await ctx.outbox.submit({
    entryId: record.id,
    source,
    content: { kind: 'message', message },
    // The caller's own Message-ID when it gave one (validated by core), else one fixed now.
    messageId: normalized.messageId ?? createMessageId(senderOf(record, normalized.from)),
  });
  const row = await ctx.outbox.waitFor(accepted.id, waitMs);
  if (row?.status === 'sent') {
    const { id: _id, status: _status, ...result } = sendResultOf(row);
    return result;
  }
  if (row && (row.status === 'failed' || row.status === 'unknown')) throw outcomeError(row);
  throw new ApiError(504, 'OUTBOX_PENDING', 'The message is queued but was not delivered in time', {
    hint: `Follow it at GET /api/messages/${accepted.id}`,
    details: { id: accepted.id, status: row?.status ?? 'queued' },
  });
}

/**
 * The admin UI's "send test email": core's `sendTest`, with a newly acquired token and a new SMTP
 * connection (never the entry's pooled mailer or its token cache), so the verdict is the setup's as
 * it is now and agrees with the doctor. The connection goes to the address the S6 guard checked.
 * A failed send is a result (`ok: false` with the doctor's failing step), not an HTTP error.
 */
export async function sendTest(
  ctx: AppContext,
  record: EmailServerRecord,
  to: string,
): Promise<SendTestResult> {
  const message: MailMessage = {
    to,
    subject: 'smtp-oauth test message',
    text: `This is a test message from the smtp-oauth server, sent through the email-server entry "${record.name}" at ${ctx.now().toISOString()}.\r\n\r\nIf you can read this, sending works.\r\n`,
  };
  let result: SendTestResult;
  try {
    const runtime = await ctx.runtimes.get(record);
    const address = runtime.addresses[0];
    result = await coreSendTest(runtime.config, message, {
      now: () => ctx.now().getTime(),
      ...(address && !isIP(runtime.config.host) ? { connectAddress: address } : {}),
      lookup: async () => runtime.addresses.map((a) => ({ address: a, family: isIP(a) || 4 })),
      // Its own token provider (and the doctor's, explaining a failure): the same S5 check.
      checkUrl: tokenUrlCheck(() => ctx.tokenPolicy),
    });
  } catch (error) {
    await recordTest(ctx, record.id, 'send-test', false, failureLine(error));
    throw error;
  }
  await recordTest(
    ctx,
    record.id,
    'send-test',
    result.ok,
    result.ok
      ? `send-test: ${result.sent?.response ?? 'sent'}`
      : `send-test: ${result.error?.code ?? 'FAILED'}: ${result.failedStep?.cause ?? result.error?.message ?? result.summary}`,
  );
  return result;
}
