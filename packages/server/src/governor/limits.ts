import { type EmailServerConfig, isMicrosoftHost } from '@org/core';
import { EXCHANGE_MAILBOX_LIMITS, type Mailbox } from './types.js';

/** The governor's key of the mailbox an entry sends as: `host|user`, lower case, no trailing dot. */
export function mailboxKeyOf(config: Pick<EmailServerConfig, 'host' | 'user'>): string {
  return `${config.host.toLowerCase().replace(/\.$/, '')}|${config.user.toLowerCase()}`;
}

/**
 * The governed mailbox of an entry: Exchange's limits for Microsoft hosts (the entry's own
 * `limits` override them); other hosts are not governed unless the entry sets `limits`.
 */
export function mailboxOf(config: EmailServerConfig): Mailbox | undefined {
  const set = config.limits;
  if (!isMicrosoftHost(config.host) && !set) return undefined;
  const base = isMicrosoftHost(config.host)
    ? EXCHANGE_MAILBOX_LIMITS
    : {
        maxConnections: Number.POSITIVE_INFINITY,
        messagesPerMinute: Number.POSITIVE_INFINITY,
        recipientsPerDay: Number.POSITIVE_INFINITY,
      };
  return {
    key: mailboxKeyOf(config),
    limits: {
      maxConnections: set?.maxConnections ?? base.maxConnections,
      messagesPerMinute: set?.messagesPerMinute ?? base.messagesPerMinute,
      recipientsPerDay: base.recipientsPerDay,
    },
  };
}
