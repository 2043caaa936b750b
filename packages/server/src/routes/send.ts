import type { MailMessage } from '@org/core';
import { Router } from 'express';
import { sendThrough } from '../actions.js';
import { assertApiKeyScope, fromAddressOf } from '../auth/api-key-scope.js';
import { requireApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/errors.js';
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
    SendResult: {
      type: 'object',
      required: ['messageId', 'accepted', 'rejected', 'response'],
      properties: {
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
      'Send a message through an email-server entry (applications; API key). One pooled mailer and one token cache per entry serve every request.',
    tag: 'send',
    auth: 'apiKey',
    requestBody: { $ref: '#/components/schemas/SendRequest' },
    responses: {
      '200': {
        description: 'Accepted by the SMTP server',
        schema: { $ref: '#/components/schemas/SendResult' },
      },
      '400': { description: 'Invalid message (issues name the field, e.g. `subject`); nothing was sent' },
      '401': { description: 'Missing, unknown or revoked API key' },
      '404': { description: 'No entry with this id or name (issue path `server`)' },
      '409': { description: 'No default entry, or the entry cannot be used as stored' },
      '413': { description: 'Message too large' },
      '502': {
        description:
          "The token endpoint or SMTP server refused or failed: core's `code` (TOKEN_*, SMTP_*, TLS_*, NETWORK_*), `hint`, `transient` and `details`",
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

/** `POST /api/send`: applications send through a stored entry, authenticated by an API key. */
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
    const result = await sendThrough(ctx, record, message as MailMessage, { apiKeyId: apiKey.id });
    res.json({
      messageId: result.messageId,
      accepted: result.accepted,
      rejected: result.rejected,
      response: result.response,
    });
  });
  return router;
}
