import { createMessageId, type MailMessage, validateMessage } from '@org/core';
import { senderOf } from '../actions.js';
import { Router } from 'express';
import { assertApiKeyScope, fromAddressOf } from '../auth/api-key-scope.js';
import { requireApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { outcomeError, sendResultOf } from '../outbox/outcome.js';
import type { EmailServerRecord } from '../store/email-servers-repository.js';
import type { OperationDoc } from './docs.js';

// The top-level fields of core's MailMessage. Only the shape of the envelope is checked here;
// the message itself is validated by core (validateMessage, inside the mailer's send) — once.
const MESSAGE_FIELDS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'text',
  'html',
  'attachments',
  'headers',
  'inReplyTo',
  'references',
  'messageId',
  'date',
  'envelope',
  'priority',
]);
const ID = /^[A-Za-z0-9_-]{1,100}$/;

const addressSchema = {
  oneOf: [
    { type: 'string', description: '`a@example.com` or `Name <a@example.com>`' },
    {
      type: 'object',
      required: ['address'],
      properties: { name: { type: 'string' }, address: { type: 'string' } },
      additionalProperties: false,
    },
  ],
};
const addressList = { oneOf: [addressSchema, { type: 'array', items: addressSchema }] };

/** OpenAPI components of the send API (documentation of core's message shape). */
export function sendSchemas(): Record<string, unknown> {
  return {
    SendRequest: {
      type: 'object',
      description:
        "core's MailMessage plus `server`. Validated by @org/core before any network I/O: CR/LF/NUL in an address, display name, subject or header → 400 naming the field (S8). At least one recipient in to, cc or bcc (or envelope.to). Addresses: a string, a comma-separated list, `{ name, address }` or an array of these.",
      additionalProperties: false,
      properties: {
        server: {
          type: 'string',
          description: 'Email-server entry id or name; the default entry when omitted',
        },
        from: { ...addressSchema, description: "Defaults to the entry's `from` or its mailbox" },
        to: addressList,
        cc: addressList,
        bcc: addressList,
        replyTo: addressList,
        subject: { type: 'string' },
        text: { type: 'string' },
        html: { type: 'string' },
        inReplyTo: { type: 'string', description: 'Message-ID this message answers, `<id@domain>`' },
        references: {
          oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
          description: 'Message-IDs of the thread, oldest first',
        },
        messageId: {
          type: 'string',
          description: '`<unique@domain>`; generated when omitted. Kept for every retry',
        },
        date: {
          type: 'string',
          format: 'date-time',
          description: 'The Date header; the send time when omitted',
        },
        envelope: {
          type: 'object',
          additionalProperties: false,
          required: ['to'],
          description: 'SMTP envelope (MAIL FROM / RCPT TO) when it differs from the headers',
          properties: {
            from: { type: 'string' },
            to: addressList,
            cc: addressList,
            bcc: addressList,
          },
        },
        priority: { type: 'string', enum: ['high', 'normal', 'low'] },
        attachments: {
          type: 'array',
          items: {
            type: 'object',
            required: ['content'],
            additionalProperties: false,
            description:
              '`path` (local files) and `href` (URL fetches) are refused: 400 naming `attachments[i].path`',
            properties: {
              filename: { type: 'string', description: 'Required unless `cid` is set' },
              content: { type: 'string', description: 'Text (UTF-8), or the bytes in `encoding`' },
              encoding: {
                type: 'string',
                enum: ['base64', 'base64url', 'hex', 'utf8', 'utf-8', 'latin1', 'binary', 'ascii'],
                description:
                  "How `content` is encoded; the attachment carries the decoded bytes. Default 'utf8'",
              },
              contentType: { type: 'string' },
              contentDisposition: { type: 'string', enum: ['attachment', 'inline'] },
              cid: { type: 'string', description: 'Content-ID for inline images (`<img src="cid:…">`)' },
            },
          },
        },
        headers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description:
            'Extra headers from an allow-list: X-*, List-*, In-Reply-To, References, Auto-Submitted, Precedence, Importance, Priority, Sensitivity, Keywords, Comments, Organization, Thread-Topic, Thread-Index, Content-Language, Feedback-ID, Archived-At. Anything else (addressing, MIME, Message-ID, Date, Return-Path, Resent-*, DKIM-Signature) → 400 naming `headers.<Name>`',
        },
      },
    },
    SendAccepted: {
      type: 'object',
      required: ['id', 'messageId', 'status'],
      properties: {
        id: { type: 'string', description: 'Outbox id: `GET /api/messages/{id}`' },
        messageId: {
          type: 'string',
          description: 'RFC 5322 Message-ID, fixed at acceptance, e.g. `<uuid@contoso.com>`',
        },
        status: { type: 'string', enum: ['queued', 'sending', 'sent', 'failed', 'unknown', 'cancelled'] },
      },
    },
    SendResult: {
      type: 'object',
      required: ['messageId', 'accepted', 'rejected', 'response'],
      properties: {
        id: { type: 'string', description: 'Outbox id' },
        status: { type: 'string', enum: ['sent'] },
        messageId: { type: 'string' },
        accepted: { type: 'array', items: { type: 'string' } },
        rejected: { type: 'array', items: { type: 'string' } },
        response: { type: 'string', description: "The SMTP server's final reply" },
      },
    },
  };
}

export const sendDocs: OperationDoc[] = [
  {
    method: 'post',
    path: '/api/send',
    summary:
      "Hand a message to the outbox (applications; API key). It is validated, stored with its Message-ID fixed, and answered only after the commit; delivery follows through the entry's mailer, retried on transient failures. Headers: `Idempotency-Key` (a repeat with the same key and API key returns the first answer, kept at least 24 h; `Idempotent-Replayed: true`), `Prefer: wait=N` (wait up to N seconds, at most 120, for the outcome: 200 with the SendResult when sent in time, the failure when it failed, else 202).",
    tag: 'send',
    auth: 'apiKey',
    requestBody: { $ref: '#/components/schemas/SendRequest' },
    responses: {
      '200': {
        description: 'With `Prefer: wait=N`: delivered within the wait (SendResult plus `id` and `status`)',
        schema: { $ref: '#/components/schemas/SendResult' },
      },
      '202': {
        description:
          'Accepted and stored: `{ id, messageId, status }`; `Location: /api/messages/{id}` tells the outcome later',
        schema: { $ref: '#/components/schemas/SendAccepted' },
      },
      '400': { description: 'Invalid message (issues name the field, e.g. `subject`); nothing was stored' },
      '401': { description: 'Missing, unknown or revoked API key' },
      '404': { description: 'No entry with this id or name (issue path `server`)' },
      '409': { description: 'No default entry, or the entry cannot be used as stored' },
      '413': { description: 'Message too large' },
      '422': { description: '`IDEMPOTENCY_KEY_REUSED`: the key was used for a different message' },
      '502': {
        description:
          "With `Prefer: wait=N`: the message ended `failed` or `unknown` within the wait: core's `code` (TOKEN_*, SMTP_*, TLS_*, NETWORK_*), `hint`, and `details.id`/`details.status`",
      },
      '503': {
        description:
          '`OUTBOX_UNAVAILABLE` (database unreachable) or `SHUTTING_DOWN`: nothing was stored; retry after `Retry-After`',
      },
    },
  },
];

async function chooseEntry(ctx: AppContext, server: unknown): Promise<EmailServerRecord> {
  if (server === undefined) {
    const record = await ctx.lookups.emailServers.get('default', () => ctx.repos.emailServers.getDefault());
    if (!record)
      throw new ApiError(409, 'NO_DEFAULT_EMAIL_SERVER', 'No email server is marked as the default', {
        hint: 'Name the entry in `server`, or make one the default in the admin UI',
      });
    return record;
  }
  if (typeof server !== 'string' || server.length === 0 || server.length > 200) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'The request body is invalid', {
      issues: [{ path: 'server', message: 'Must be an email-server id or name' }],
    });
  }
  const record = await ctx.lookups.emailServers.get(
    `ref:${server}`,
    async () =>
      (ID.test(server) ? await ctx.repos.emailServers.get(server) : undefined) ??
      (server.includes('\u0000') ? undefined : await ctx.repos.emailServers.getByName(server)),
  );
  if (!record)
    throw new ApiError(404, 'EMAIL_SERVER_NOT_FOUND', 'No email server with this id or name', {
      issues: [{ path: 'server', message: 'No email server with this id or name' }],
    });
  return record;
}

/** `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header): 1–200 visible ASCII characters. */
function idempotencyKeyOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(value))
    throw new ApiError(400, 'VALIDATION_FAILED', 'The Idempotency-Key header is invalid', {
      issues: [{ path: 'Idempotency-Key', message: 'Use 1–200 visible ASCII characters, e.g. a UUID' }],
    });
  return value;
}

/** Longest `Prefer: wait=N` honoured, seconds. */
export const MAX_PREFER_WAIT_SECONDS = 120;

/** `Prefer: wait=N` (RFC 7240 §4.3): seconds the caller is willing to wait for the outcome. */
function preferWaitOf(value: string | undefined): number | undefined {
  const m = value ? /(?:^|[;,\s])wait=(\d{1,6})(?:$|[;,\s])/i.exec(value) : null;
  if (!m) return undefined;
  return Math.min(Number(m[1]), MAX_PREFER_WAIT_SECONDS);
}

/** `POST /api/send`: applications hand messages to the outbox, authenticated by an API key. */
export function sendRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/send', requireApiKey(ctx), async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'The request body is invalid', {
        issues: [{ path: '(root)', message: 'Expected a JSON object (a message)' }],
      });
    }
    const { server, ...message } = body as Record<string, unknown>;
    const unknown = Object.keys(message).filter((k) => !MESSAGE_FIELDS.has(k));
    if (unknown.length > 0) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'The request body is invalid', {
        issues: unknown.slice(0, 50).map((path) => ({ path, message: 'Unknown field' })),
      });
    }
    const idempotencyKey = idempotencyKeyOf(req.get('idempotency-key'));
    const wait = preferWaitOf(req.get('prefer'));
    const record = await chooseEntry(ctx, server);
    const apiKey = res.locals.apiKey as { id: string };
    assertApiKeyScope(
      { ...res.locals.apiKey, scope: res.locals.apiKeyScope },
      {
        entry: record,
        from: fromAddressOf(message.from ?? record.config.from ?? record.config.user),
        ip: req.ip,
      },
    );
    // S8: the message is validated (core) before anything is stored; the mailer checks it again.
    const normalized = validateMessage(message as MailMessage);
    const accepted = await ctx.outbox.submit({
      entryId: record.id,
      source: { kind: 'api', apiKeyId: apiKey.id },
      content: { kind: 'message', message: message as MailMessage },
      // The caller's own Message-ID when it gave one (validated by core), else one fixed now.
      messageId: normalized.messageId ?? createMessageId(senderOf(record, normalized.from)),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    if (accepted.duplicate) res.setHeader('Idempotent-Replayed', 'true');
    res.setHeader('Location', `/api/messages/${accepted.id}`);
    if (wait !== undefined && wait > 0) {
      res.setHeader('Preference-Applied', `wait=${wait}`);
      const row = await ctx.outbox.waitFor(accepted.id, wait * 1000);
      if (row?.status === 'sent') {
        res.json(sendResultOf(row));
        return;
      }
      if (row && (row.status === 'failed' || row.status === 'unknown')) throw outcomeError(row);
      if (row) {
        res.status(202).json({ id: row.id, messageId: row.message_id, status: row.status });
        return;
      }
    }
    res.status(202).json({ id: accepted.id, messageId: accepted.messageId, status: accepted.status });
  });
  return router;
}
