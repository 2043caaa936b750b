import { Router } from 'express';
import { actorOf, requireAdmin } from '../auth/admin-session.js';
import type { AppContext } from '../context.js';
import { ApiError, type Issue } from '../http/errors.js';
import { parseIdParam, parseWith, type Schema, s } from '../http/validate.js';
import { allowListEntryProblem } from '../relay/allow-list.js';
import { generateDevicePassword, usernameFromName } from '../relay/credentials.js';
import { EXCHANGE_MAX_MESSAGE_BYTES, entryAddresses } from '../relay/policy.js';
import { relaySelfTest } from '../relay/self-test.js';
import { newId } from '../store/ids.js';
import { createRelayRepository, type RelayDeviceRow, relayDay } from '../store/relay-repository.js';
import type { OperationDoc } from './docs.js';

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function stringList(options: {
  max: number;
  description: string;
  item: (value: string) => string | undefined;
}): Schema<string[]> {
  return {
    jsonSchema: {
      type: 'array',
      maxItems: options.max,
      items: { type: 'string' },
      description: options.description,
    },
    check(input, path, issues) {
      if (!Array.isArray(input)) {
        issues.push({ path, message: `Expected an array of strings, got ${describe(input)}` });
        return undefined;
      }
      if (input.length > options.max) {
        issues.push({ path, message: `At most ${options.max} entries` });
        return undefined;
      }
      const out: string[] = [];
      const before = issues.length;
      input.forEach((value, i) => {
        if (
          typeof value !== 'string' ||
          value.trim() === '' ||
          value.length > 320 ||
          value.includes('\u0000')
        ) {
          issues.push({
            path: `${path}[${i}]`,
            message: 'Expected a non-empty string of at most 320 characters',
          });
          return;
        }
        const problem = options.item(value.trim());
        if (problem) issues.push({ path: `${path}[${i}]`, message: problem });
        else out.push(value.trim());
      });
      return issues.length === before ? out : undefined;
    },
  };
}

function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return {
    jsonSchema: { ...schema.jsonSchema, type: [schema.jsonSchema.type as string, 'null'] },
    check: (input, path, issues) => (input === null ? null : schema.check(input, path, issues)),
  };
}

function oneOf<T extends string>(values: readonly T[], description: string): Schema<T> {
  return {
    jsonSchema: { type: 'string', enum: values, description },
    check(input, path, issues) {
      if (typeof input === 'string' && (values as readonly string[]).includes(input)) return input as T;
      issues.push({ path, message: `Must be one of: ${values.join(', ')}` });
      return undefined;
    },
  };
}

const bool: Schema<boolean> = {
  jsonSchema: { type: 'boolean' },
  check(input, path, issues) {
    if (typeof input === 'boolean') return input;
    issues.push({ path, message: `Expected true or false, got ${describe(input)}` });
    return undefined;
  },
};

const SENDER = /^([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+|@[^\s@<>]+\.[^\s@<>]+)$/;

const fields = {
  name: s.string({ min: 1, max: 100, trim: true }),
  username: s.string({
    min: 1,
    max: 100,
    pattern: /^[A-Za-z0-9._@-]+$/,
    description: 'letters, digits and . _ @ - (what device forms accept)',
  }),
  entryId: nullable(
    s.string({ min: 1, max: 100, pattern: /^[A-Za-z0-9_-]+$/, description: 'an email-server id' }),
  ),
  allowedIps: stringList({
    max: 100,
    description: 'Addresses or CIDR ranges that may send as this device without AUTH',
    item: allowListEntryProblem,
  }),
  allowedSenders: stringList({
    max: 100,
    description:
      "Envelope senders and From addresses it may use (`@domain` for a domain); [] = the entry's mailbox and from",
    item: (v) => (SENDER.test(v) ? undefined : `"${v.slice(0, 60)}" is not an address or @domain`),
  }),
  fromPolicy: oneOf(
    ['enforce', 'rewrite'] as const,
    'enforce: refuse other senders; rewrite: From becomes the mailbox, the original goes to Reply-To',
  ),
  maxRecipientsPerMessage: nullable(s.integer({ min: 1, max: 10_000 })),
  maxRecipientsPerDay: nullable(s.integer({ min: 1, max: 1_000_000 })),
  maxMessageBytes: nullable(s.integer({ min: 1024, max: EXCHANGE_MAX_MESSAGE_BYTES })),
  enabled: bool,
};

const createBody = s.object(fields, [
  'username',
  'entryId',
  'allowedIps',
  'allowedSenders',
  'fromPolicy',
  'maxRecipientsPerMessage',
  'maxRecipientsPerDay',
  'maxMessageBytes',
  'enabled',
] as const);
const testBody = s.object({
  username: fields.username,
  password: s.string({ min: 1, max: 200 }),
  to: s.string({ min: 3, max: 320, pattern: /^[^\s@<>]+@[^\s@<>]+$/, description: 'an email address' }),
});
const updateBody = s.object(fields, Object.keys(fields) as (keyof typeof fields)[]);

const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    username: { type: 'string' },
    entryId: { type: ['string', 'null'], description: 'null: the default entry' },
    allowedIps: { type: 'array', items: { type: 'string' } },
    allowedSenders: { type: 'array', items: { type: 'string' } },
    fromPolicy: { type: 'string', enum: ['enforce', 'rewrite'] },
    maxRecipientsPerMessage: { type: ['integer', 'null'] },
    maxRecipientsPerDay: { type: ['integer', 'null'] },
    maxMessageBytes: { type: ['integer', 'null'] },
    enabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
    updatedAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    lastError: {
      type: ['object', 'null'],
      properties: {
        at: { type: 'string' },
        reply: { type: 'string', description: 'The SMTP reply the device got' },
      },
    },
    today: {
      type: 'object',
      properties: {
        messages: { type: 'integer' },
        recipients: { type: 'integer' },
        refused: { type: 'integer' },
      },
    },
  },
};

const withPassword = {
  type: 'object',
  properties: {
    device: deviceSchema,
    password: { type: 'string', description: 'Shown once; stored only as a hash' },
  },
};

export const relayDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/api/relay',
    summary: 'SMTP relay status: listeners (port, mode), the TLS certificate and its SHA-256 fingerprint',
    tag: 'relay',
    auth: 'session',
    responses: { '200': { description: 'Status; `enabled: false` when the server runs without the relay' } },
  },
  {
    method: 'get',
    path: '/api/relay/devices',
    summary: "Relay devices with today's counters and their last error (never passwords)",
    tag: 'relay',
    auth: 'session',
    responses: {
      '200': {
        description: 'Devices',
        schema: { type: 'object', properties: { devices: { type: 'array', items: deviceSchema } } },
      },
    },
  },
  {
    method: 'post',
    path: '/api/relay/devices',
    summary: 'Create a relay device; its generated password is in this response only',
    tag: 'relay',
    auth: 'session',
    requestBody: createBody.jsonSchema,
    responses: {
      '201': { description: 'Created', schema: withPassword },
      '400': { description: 'Invalid field (issues name it), or an unknown entryId' },
      '409': { description: 'Name or user name already taken' },
    },
  },
  {
    method: 'get',
    path: '/api/relay/devices/{id}',
    summary: 'One device with its counters of the last 30 days',
    tag: 'relay',
    auth: 'session',
    responses: { '200': { description: 'Device' }, '404': { description: 'No such device' } },
  },
  {
    method: 'patch',
    path: '/api/relay/devices/{id}',
    summary: 'Change a device (applies to its next message)',
    tag: 'relay',
    auth: 'session',
    requestBody: updateBody.jsonSchema,
    responses: {
      '200': { description: 'Changed', schema: { type: 'object', properties: { device: deviceSchema } } },
      '404': { description: 'No such device' },
      '409': { description: 'Name or user name already taken' },
    },
  },
  {
    method: 'post',
    path: '/api/relay/devices/{id}/password',
    summary: 'Generate a new password for a device (the old one stops working); shown once',
    tag: 'relay',
    auth: 'session',
    responses: {
      '200': { description: 'New password', schema: withPassword },
      '404': { description: 'No such device' },
    },
  },
  {
    method: 'post',
    path: '/api/relay/test',
    summary:
      "Send a test message through the relay itself with a device's credentials (loopback, the relay's certificate pinned); answers with the relay's reply",
    tag: 'relay',
    auth: 'session',
    requestBody: testBody.jsonSchema,
    responses: {
      '200': {
        description: '`ok` and the reply a device would get (`250 …` or the refusal)',
        schema: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            reply: { type: 'string' },
            port: { type: 'integer' },
            mode: { type: 'string' },
          },
        },
      },
      '409': { description: 'The relay is not running' },
    },
  },
  {
    method: 'delete',
    path: '/api/relay/devices/{id}',
    summary: 'Remove a device and its counters',
    tag: 'relay',
    auth: 'session',
    responses: { '204': { description: 'Removed' }, '404': { description: 'No such device' } },
  },
];

type Counters = { messages: number; recipients: number; refused: number };

function view(r: RelayDeviceRow, today: Counters) {
  return {
    id: r.id,
    name: r.name,
    username: r.username,
    entryId: r.entry_id,
    allowedIps: JSON.parse(r.allowed_ips_json) as string[],
    allowedSenders: JSON.parse(r.allowed_senders_json) as string[],
    fromPolicy: r.from_policy,
    maxRecipientsPerMessage: r.max_recipients_per_message,
    maxRecipientsPerDay: r.max_recipients_per_day,
    maxMessageBytes: r.max_message_bytes,
    enabled: Number(r.enabled) === 1,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    lastUsedAt: r.last_used_at,
    lastError: r.last_error_at ? { at: r.last_error_at, reply: r.last_error ?? '' } : null,
    today,
  };
}

type Patch = Partial<Omit<RelayDeviceRow, 'id' | 'created_at' | 'created_by'>>;

/** Body fields → columns (only those present). */
function toColumns(body: Partial<Record<keyof typeof fields, unknown>>): Patch {
  const patch: Patch = {};
  if (body.name !== undefined) patch.name = body.name as string;
  if (body.username !== undefined) patch.username = body.username as string;
  if (body.entryId !== undefined) patch.entry_id = body.entryId as string | null;
  if (body.allowedIps !== undefined) patch.allowed_ips_json = JSON.stringify(body.allowedIps);
  if (body.allowedSenders !== undefined)
    patch.allowed_senders_json = JSON.stringify(
      (body.allowedSenders as string[]).map((a) => a.toLowerCase()),
    );
  if (body.fromPolicy !== undefined) patch.from_policy = body.fromPolicy as string;
  if (body.maxRecipientsPerMessage !== undefined)
    patch.max_recipients_per_message = body.maxRecipientsPerMessage as number | null;
  if (body.maxRecipientsPerDay !== undefined)
    patch.max_recipients_per_day = body.maxRecipientsPerDay as number | null;
  if (body.maxMessageBytes !== undefined) patch.max_message_bytes = body.maxMessageBytes as number | null;
  if (body.enabled !== undefined) patch.enabled = body.enabled ? 1 : 0;
  return patch;
}

/** `/api/relay`: the relay's status and its devices (admins only). */
export function relayRoutes(ctx: AppContext): Router {
  const router = Router();
  const repo = createRelayRepository(ctx.store.db);
  router.use(requireAdmin(ctx));

  async function today(id: string): Promise<Counters> {
    const [row] = await repo.counters(id, 1);
    return row && row.day === relayDay(ctx.now())
      ? { messages: row.messages, recipients: row.recipients, refused: row.refused }
      : { messages: 0, recipients: 0, refused: 0 };
  }

  async function found(idParam: string | undefined): Promise<RelayDeviceRow> {
    const row = await repo.get(parseIdParam(idParam, 'relay device'));
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'No relay device with this id');
    return row;
  }

  /** Refuses an unknown entry and a name or user name another device has. */
  async function checkConflicts(patch: Patch, selfId?: string): Promise<void> {
    if (patch.entry_id && !(await ctx.repos.emailServers.get(patch.entry_id)))
      throw new ApiError(400, 'VALIDATION_FAILED', 'The request body is invalid', {
        issues: [
          {
            path: 'entryId',
            message: 'No email server with this id; pick one under Email servers, or null for the default',
          },
        ],
      });
    const issues: Issue[] = [];
    if (patch.name !== undefined) {
      const other = await repo.findByName(patch.name);
      if (other && other.id !== selfId)
        issues.push({ path: 'name', message: 'Another device has this name' });
    }
    if (patch.username !== undefined) {
      const other = await repo.findByUsername(patch.username);
      if (other && other.id !== selfId)
        issues.push({ path: 'username', message: 'Another device has this user name' });
    }
    if (issues.length) throw new ApiError(409, 'CONFLICT', 'Name or user name already taken', { issues });
  }

  router.get('/', (_req, res) => {
    res.json(ctx.relay ? { enabled: true, status: ctx.relay.status() } : { enabled: false, status: null });
  });

  router.get('/devices', async (_req, res) => {
    await ctx.relay?.flushCounters(); // counters are batched; show them complete
    const rows = await repo.list();
    res.json({ devices: await Promise.all(rows.map(async (r) => view(r, await today(r.id)))) });
  });

  router.post('/devices', async (req, res) => {
    const body = parseWith(createBody, req.body);
    const patch = toColumns(body);
    patch.username ??= usernameFromName(body.name);
    await checkConflicts(patch);
    const { password, hash } = generateDevicePassword();
    const at = ctx.now().toISOString();
    const row: RelayDeviceRow = {
      id: newId(),
      name: body.name,
      username: patch.username,
      password_hash: hash,
      entry_id: patch.entry_id ?? null,
      allowed_ips_json: patch.allowed_ips_json ?? '[]',
      allowed_senders_json: patch.allowed_senders_json ?? '[]',
      from_policy: patch.from_policy ?? 'enforce',
      max_recipients_per_message: patch.max_recipients_per_message ?? null,
      max_recipients_per_day: patch.max_recipients_per_day ?? null,
      max_message_bytes: patch.max_message_bytes ?? null,
      enabled: patch.enabled ?? 1,
      created_at: at,
      created_by: actorOf(res),
      updated_at: at,
      last_used_at: null,
      last_error_at: null,
      last_error: null,
    };
    await repo.insert(row);
    ctx.relay?.devicesChanged();
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'relay-device.create',
      target: row.id,
      fields: Object.keys(body),
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(201).json({ device: view(row, { messages: 0, recipients: 0, refused: 0 }), password });
  });

  router.get('/devices/:id', async (req, res) => {
    await ctx.relay?.flushCounters();
    const row = await found(req.params.id);
    const counters = await repo.counters(row.id, 30);
    res.json({
      device: view(row, await today(row.id)),
      counters: counters.map((c) => ({
        day: c.day,
        messages: c.messages,
        recipients: c.recipients,
        refused: c.refused,
      })),
    });
  });

  router.patch('/devices/:id', async (req, res) => {
    const row = await found(req.params.id);
    const body = parseWith(updateBody, req.body);
    const patch = toColumns(body);
    await checkConflicts(patch, row.id);
    patch.updated_at = ctx.now().toISOString();
    await repo.update(row.id, patch);
    ctx.relay?.devicesChanged();
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'relay-device.update',
      target: row.id,
      fields: Object.keys(body),
      outcome: 'ok',
      address: req.ip ?? null,
    });
    const updated = await found(row.id);
    res.json({ device: view(updated, await today(row.id)) });
  });

  router.post('/devices/:id/password', async (req, res) => {
    const row = await found(req.params.id);
    const { password, hash } = generateDevicePassword();
    await repo.update(row.id, { password_hash: hash, updated_at: ctx.now().toISOString() });
    ctx.relay?.devicesChanged();
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'relay-device.password-reset',
      target: row.id,
      fields: ['password'],
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.json({ device: view(await found(row.id), await today(row.id)), password });
  });

  router.post('/test', async (req, res) => {
    const body = parseWith(testBody, req.body);
    if (!ctx.relay)
      throw new ApiError(409, 'RELAY_OFF', 'The relay is not running', {
        hint: 'Start the server with RELAY_LISTEN (e.g. RELAY_LISTEN=587,465)',
      });
    const device = await repo.findByUsername(body.username);
    const entry = device?.entry_id
      ? await ctx.repos.emailServers.get(device.entry_id)
      : await ctx.repos.emailServers.getDefault();
    const senders = device ? (JSON.parse(device.allowed_senders_json) as string[]) : [];
    const from =
      senders.find((s) => !s.startsWith('@')) ??
      (entry ? entryAddresses(entry.config).mailbox : 'relay-test@localhost');
    const result = await relaySelfTest(ctx.relay.status(), ctx.relay.certificatePem(), {
      username: body.username,
      password: body.password,
      from,
      to: body.to,
    });
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'relay.test',
      target: device?.id ?? null,
      fields: ['to'],
      outcome: result.ok ? 'ok' : 'failed',
      address: req.ip ?? null,
    });
    res.json(result);
  });

  router.delete('/devices/:id', async (req, res) => {
    const row = await found(req.params.id);
    await repo.remove(row.id);
    ctx.relay?.devicesChanged();
    await ctx.audit.record({
      actor: actorOf(res),
      action: 'relay-device.delete',
      target: row.id,
      outcome: 'ok',
      address: req.ip ?? null,
    });
    res.status(204).end();
  });

  return router;
}
