// The CLI's exit code of every error comes from one table keyed by core's error category.
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { catalogEntry, errorCatalog, errorCategories, SmtpOAuthError } from '@org/core';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, exitCodeByCategory } from '../src/exit-codes.js';
import { exitCodeFor } from '../src/report.js';
import { output, runCli, type Workspace, workspace } from './helpers.js';

describe('exit codes by category', () => {
  it('the table covers every category, and every catalog code exits by its category', () => {
    expect(Object.keys(exitCodeByCategory).sort()).toEqual([...errorCategories].sort());
    for (const e of errorCatalog)
      expect(exitCodeFor(new SmtpOAuthError(e.code, 'x')), e.code).toBe(exitCodeByCategory[e.category]);
  });

  it('a code outside the catalog (the server’s own) exits by its transient flag', () => {
    expect(exitCodeFor({ code: 'DATABASE_UNAVAILABLE', transient: true })).toBe(ExitCode.Transient);
    expect(exitCodeFor({ code: 'OUTBOX_FAILED', transient: false })).toBe(ExitCode.Permanent);
    expect(exitCodeFor(new Error('bug'))).toBe(ExitCode.Internal);
  });
});

describe('MESSAGE_TOO_LARGE (built binary, child process)', () => {
  let env: TestEnvironment;
  let ws: Workspace | undefined;
  beforeAll(async () => {
    env = await createTestEnvironment({ limits: { messagesPerMinute: false, maxMessageSize: 2048 } });
  });
  afterAll(async () => {
    await env?.close();
  });
  afterEach(() => ws?.remove());

  // Regression: `send` exited 5 (permanent delivery failure) for a message over the server's size
  // limit, while the server's API answers the same code 413 (the caller's message) and `send
  // --server` exits 2 for it. Both front ends now read the catalog's category.
  it('a message over the server’s size limit exits 2 like any invalid message', async () => {
    ws = workspace(env);
    const r = await runCli(
      [
        ...ws.args,
        'send',
        '--to',
        'a@example.com',
        '--subject',
        's',
        '--text',
        ws.write('body.txt', `${'x'.repeat(76)}\n`.repeat(100)),
      ],
      { cwd: ws.dir, env: ws.env, timeoutMs: 90_000 },
    );
    expect(r.stderr, output(r)).toMatch(/\bMESSAGE_TOO_LARGE\b/);
    expect(catalogEntry('MESSAGE_TOO_LARGE').category).toBe('message-size');
    expect(r.code, output(r)).toBe(ExitCode.Usage);
    expect(env.messages()).toHaveLength(0);
  });
});

// `send --server` read the HTTP status first: a core code on a 409 (CREDENTIAL_EXPIRED) exited 2,
// where a direct `send` exits 3 for the same code. Core's codes now exit by their category.
describe('send --server: a core code exits as a direct send would', () => {
  it.each([
    [409, 'CREDENTIAL_EXPIRED', false, ExitCode.Auth],
    [413, 'MESSAGE_TOO_LARGE', false, ExitCode.Usage],
    [502, 'SMTP_CONCURRENCY_LIMIT', true, ExitCode.Transient],
    [409, 'NAME_TAKEN', undefined, ExitCode.Usage],
  ] as const)('HTTP %i %s (transient: %s) → exit %i', async (status, code, transient, exit) => {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code, message: 'refused', ...(transient === undefined ? {} : { transient }) },
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as { port: number };
      const r = await runCli(
        [
          'send',
          '--server',
          `http://127.0.0.1:${port}`,
          '--api-key',
          'k',
          '--to',
          'a@example.com',
          '--subject',
          's',
          '--text',
          '-',
        ],
        { cwd: tmpdir(), timeoutMs: 60_000, input: 'hi' },
      );
      expect(r.stderr, output(r)).toContain(code);
      expect(r.code, output(r)).toBe(exit);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
