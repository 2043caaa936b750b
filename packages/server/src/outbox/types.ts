import type { MailMessage } from '@org/core';
import type { OutboxAttempt, OutboxMessage, OutboxStatus } from '@org/core/api';

// The wire shapes live with the rest of the HTTP contract in @org/core/api (the admin UI reads them).
export type { OutboxAttempt, OutboxMessage, OutboxStatus };

/**
 * The outbox: every front end (the HTTP send API, the SMTP relay, `smtp-oauth send --server`) hands
 * messages to it, and only after {@link Outbox.submit} resolves — the row committed — does it answer
 * 202 (HTTP) or 250 (SMTP). Delivery happens later, through the entry's mailer, under the governor.
 */

/** Who handed the message in (for the audit trail, the API-key / device binding and webhooks). */
export type OutboxSource =
  | { kind: 'api'; apiKeyId: string }
  | { kind: 'relay'; deviceId: string }
  | { kind: 'admin'; adminId: string };

/** What is delivered: core's structured message, or MIME received by the relay, passed through unchanged. */
export type OutboxContent =
  | { kind: 'message'; message: MailMessage }
  | {
      kind: 'raw';
      /** The message as received (headers + body), delivered byte for byte. */
      raw: Uint8Array;
      /** SMTP envelope: MAIL FROM and RCPT TO. */
      envelope: { from: string; to: string[] };
    };

/** One message handed to the outbox. */
export interface OutboxSubmission {
  /** The email-server entry it is delivered through. */
  entryId: string;
  source: OutboxSource;
  content: OutboxContent;
  /** RFC 5322 Message-ID with angle brackets, fixed at acceptance and kept for every attempt. */
  messageId: string;
  /** With the same source, a repeat returns the first answer instead of a second message. */
  idempotencyKey?: string;
}

/** The answer to a submission: what the front end reports (202 body, `250 2.0.0 queued as <id>`). */
export interface OutboxAccepted {
  id: string;
  messageId: string;
  status: OutboxStatus;
  /** True when an idempotency key matched an earlier submission (nothing new was stored). */
  duplicate: boolean;
}

/**
 * What front ends need from the outbox. Implementations: SQLite (one instance), PostgreSQL (many).
 * @throws ApiError-compatible errors with `code` `OUTBOX_UNAVAILABLE` (database down: answer 503/451,
 * retry later) or `OUTBOX_FULL` (backlog over its limit: 503/452).
 */
export interface OutboxSubmitter {
  submit(submission: OutboxSubmission): Promise<OutboxAccepted>;
}

/** Filter of `GET /api/messages`; newest first, paged by `before` (an id from the previous page). */
export interface OutboxListFilter {
  status?: OutboxStatus | undefined;
  entryId?: string | undefined;
  /** Only messages of this source id (an API key sees its own). */
  sourceId?: string | undefined;
  limit: number;
  before?: string | undefined;
}

/** Counts by state, for `/metrics` and the admin page. */
export type OutboxCounts = Record<OutboxStatus, number>;
