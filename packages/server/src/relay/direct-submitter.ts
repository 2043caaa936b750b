import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { OutboxAccepted, OutboxSubmission, OutboxSubmitter } from '../outbox/types.js';

/**
 * NON-DURABLE FALLBACK until the outbox is merged: delivers each submission at once through the
 * entry's pooled mailer (`sendRaw`, MIME byte for byte) and resolves only after the email server
 * accepted it — so the relay's 250 still means "Exchange has it", but nothing is persisted: a crash
 * between the device's DATA and Exchange's reply loses the message (the device saw no 250 and
 * retries). Replace it with the outbox's submitter (`OutboxSubmitter`) at merge time.
 *
 * @throws SmtpOAuthError from core (delivery refused or failed: the relay maps `transient` to 451,
 * otherwise 554), or ApiError when the entry is missing or unusable.
 */
export function createDirectSubmitter(
  ctx: Pick<AppContext, 'repos' | 'runtimes' | 'lookups'>,
): OutboxSubmitter {
  return {
    async submit(submission: OutboxSubmission): Promise<OutboxAccepted> {
      if (submission.content.kind !== 'raw')
        throw Object.assign(new Error('The direct submitter relays raw MIME only'), {
          code: 'OUTBOX_UNAVAILABLE',
        });
      const record = await ctx.lookups.emailServers.get(`id:${submission.entryId}`, () =>
        ctx.repos.emailServers.get(submission.entryId),
      );
      if (!record)
        throw Object.assign(new Error('The email-server entry no longer exists'), {
          code: 'EMAIL_SERVER_NOT_FOUND',
        });
      const runtime = await ctx.runtimes.get(record);
      const { raw, envelope } = submission.content;
      await runtime.mailer.sendRaw({ raw, envelope, messageId: submission.messageId });
      return { id: randomUUID(), messageId: submission.messageId, status: 'sent', duplicate: false };
    },
  };
}
