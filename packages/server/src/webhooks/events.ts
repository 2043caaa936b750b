import { toOutboxMessage, type OutboxRow } from '../outbox/driver.js';
import type { OutboxStatus } from '../outbox/types.js';

/** The event types: one per final state of a message, and the admin's test event. */
export type WebhookEventType =
  | 'message.sent'
  | 'message.failed'
  | 'message.unknown'
  | 'message.cancelled'
  | 'webhook.test';

const FINAL: ReadonlySet<string> = new Set<OutboxStatus>(['sent', 'failed', 'unknown', 'cancelled']);

/** A message's final state as posted: outcome and metadata, never the content or any secret. */
export interface MessageEventData {
  /** The outbox id (`GET /api/messages/{id}`). */
  id: string;
  /** RFC 5322 Message-ID with angle brackets. */
  messageId: string;
  status: OutboxStatus;
  /** Catalog code of the failure or of the unknown outcome; null when sent. */
  code: string | null;
  hint: string | null;
  /** The SMTP server's last reply line. */
  reply: string | null;
  accepted: string[] | null;
  rejected: string[] | null;
  recipientCount: number;
  attempts: number;
  entryId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** The JSON body of every event (the Standard Webhooks payload shape: type, timestamp, data). */
export interface WebhookEvent<T = unknown> {
  type: WebhookEventType;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: T;
}

/** The event for a row in a final state, or undefined for any other state. */
export function messageEvent(row: OutboxRow, at: Date): WebhookEvent<MessageEventData> | undefined {
  if (!FINAL.has(row.status)) return undefined;
  const m = toOutboxMessage(row);
  return {
    type: `message.${m.status}` as WebhookEventType,
    timestamp: at.toISOString(),
    data: {
      id: m.id,
      messageId: m.messageId,
      status: m.status,
      code: m.lastCode,
      hint: m.lastHint,
      reply: m.lastReply,
      accepted: m.accepted,
      rejected: m.rejected,
      recipientCount: m.recipientCount,
      attempts: m.attempts,
      entryId: m.entryId,
      createdAt: m.createdAt,
      finishedAt: m.finishedAt,
    },
  };
}
