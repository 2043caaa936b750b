/**
 * The inspection HTTP API (like Mailpit's): lets tests in any language, and our demo, read what the
 * fake Microsoft saw and change its directory, faults and clock while it runs. Plain HTTP on
 * 127.0.0.1 — it is a local test tool, not something to expose.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestEnvironment } from '../environment.js';
import type { SmtpFault } from '../smtp/index.js';
import type { TokenFaultSpec } from '../token/index.js';
import { applyDirectoryAction, type DirectoryAction } from './directory-actions.js';

export type { DirectoryAction } from './directory-actions.js';

export interface InspectServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1_048_576;

/** Runs a change the client described; a refusal (unknown action, malformed fault) is the client's error. */
function rejectAsBadRequest<T>(change: () => T): T {
  try {
    return change();
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : String(error));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value) =>
    Buffer.isBuffer(value) ? { base64: value.toString('base64'), size: value.length } : value,
  );
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function summary(m: ReturnType<TestEnvironment['messages']>[number]) {
  return {
    id: m.id,
    receivedAt: m.receivedAt,
    messageId: m.messageId,
    envelope: m.envelope,
    identity: m.identity,
    size: m.raw.length,
    throttledMs: m.throttledMs,
    subject: m.parsed?.subject,
  };
}

/** Starts the inspection API for an environment. */
export async function createInspectServer(
  env: TestEnvironment,
  options: { host?: string; port?: number } = {},
): Promise<InspectServer> {
  const routes: Array<
    [string, RegExp, (req: IncomingMessage, m: RegExpExecArray) => Promise<[number, unknown]>]
  > = [
    [
      'GET',
      /^\/api\/messages$/,
      async () => {
        const list = env.messages();
        await Promise.all(list.map((m) => m.parse()));
        return [200, list.map(summary)];
      },
    ],
    [
      'DELETE',
      /^\/api\/messages$/,
      async () => {
        env.smtpServer.clear();
        return [200, { cleared: true }];
      },
    ],
    [
      'GET',
      /^\/api\/messages\/([^/]+)$/,
      async (_req, m) => {
        const msg = env.messages().find((x) => x.id === m[1]);
        if (!msg) throw new HttpError(404, `no message '${m[1]}'`);
        const parsed = await msg.parse();
        return [200, { ...summary(msg), parsed, transcript: msg.transcript }];
      },
    ],
    [
      'GET',
      /^\/api\/messages\/([^/]+)\/raw$/,
      async (_req, m) => {
        const msg = env.messages().find((x) => x.id === m[1]);
        if (!msg) throw new HttpError(404, `no message '${m[1]}'`);
        return [200, { raw: msg.raw.toString('utf8') }];
      },
    ],
    ['GET', /^\/api\/auth-attempts$/, async () => [200, env.authAttempts()]],
    ['GET', /^\/api\/token-requests$/, async () => [200, env.tokenRequests()]],
    ['GET', /^\/api\/directory$/, async () => [200, env.directory.snapshot()]],
    [
      'POST',
      /^\/api\/directory$/,
      async (req) => {
        const action = (await readJson(req)) as DirectoryAction;
        return [
          200,
          { ok: true, result: rejectAsBadRequest(() => applyDirectoryAction(env, action)) ?? null },
        ];
      },
    ],
    [
      'GET',
      /^\/api\/faults$/,
      async () => [200, { token: env.faults.token.list(), smtp: env.faults.smtp.list() }],
    ],
    [
      'POST',
      /^\/api\/faults\/token$/,
      async (req) => {
        const spec = (await readJson(req)) as TokenFaultSpec;
        return [201, rejectAsBadRequest(() => env.faults.token.add(spec))];
      },
    ],
    [
      'POST',
      /^\/api\/faults\/smtp$/,
      async (req) => {
        const fault = (await readJson(req)) as SmtpFault;
        return [201, rejectAsBadRequest(() => env.faults.smtp.add(fault))];
      },
    ],
    [
      'DELETE',
      /^\/api\/faults$/,
      async () => {
        env.faults.token.clear();
        env.faults.smtp.clear();
        return [200, { cleared: true }];
      },
    ],
    [
      'GET',
      /^\/api\/clock$/,
      async () => [200, { now: env.clock.now(), iso: new Date(env.clock.now()).toISOString() }],
    ],
    [
      'POST',
      /^\/api\/clock$/,
      async (req) => {
        const body = (await readJson(req)) as { advanceMs?: unknown; set?: unknown };
        if (typeof body.advanceMs === 'number') env.clock.advance(body.advanceMs);
        else if (typeof body.set === 'number' || typeof body.set === 'string')
          env.clock.set(new Date(body.set).getTime());
        else throw new HttpError(400, 'give { "advanceMs": <ms> } or { "set": <epoch ms | ISO date> }');
        return [200, { now: env.clock.now(), iso: new Date(env.clock.now()).toISOString() }];
      },
    ],
  ];

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.find(([method, re]) => method === req.method && re.test(path));
    if (!route) {
      send(res, 404, { error: `no route ${req.method} ${path}` });
      return;
    }
    const match = route[1].exec(path) as RegExpExecArray;
    route[2](req, match).then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        send(res, status, { error: error instanceof Error ? error.message : String(error) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
