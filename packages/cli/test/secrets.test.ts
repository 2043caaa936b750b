import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { output, runCli, workspace, type Workspace } from './helpers.js';

let env: TestEnvironment | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  ws?.remove();
  await env?.close();
});

describe('no command ever prints a secret', () => {
  it('the client secret (canary) and access tokens are absent from every output, success or failure', async () => {
    env = await createTestEnvironment();
    ws = workspace(env);
    const e = env;
    const w = ws;
    const csv = w.write('b.csv', 'to,n\nx@example.com,1\n');
    const runs = [
      ['config', 'show'],
      ['config', 'show', '--json'],
      ['config', 'validate'],
      ['config', 'validate', '--json'],
      ['token'],
      ['token', '--json'],
      ['doctor', '--verbose'],
      ['doctor', '--json', '--send-test-to', e.mailbox],
      ['send', '--to', 'y@example.com', '--subject', 'canary', '--text', '-'],
      ['send', '--json', '--batch', csv, '--subject', 'n={{n}}', '--text', '-'],
    ];
    const outputs: string[] = [];
    for (const args of runs) {
      const r = await runCli([...w.args, ...args], { cwd: w.dir, env: w.env, input: 'body' });
      expect(r.code, `${args.join(' ')}\n${output(r)}`).toBe(0);
      outputs.push(output(r));
    }
    // Failures too: a broken directory makes every command report errors.
    e.directory.revokeAdminConsent(e.clientId);
    for (const args of [
      ['doctor', '--verbose'],
      ['doctor', '--json'],
      ['send', '--to', 'z@example.com', '--subject', 's', '--text', '-'],
    ]) {
      const r = await runCli([...w.args, ...args], { cwd: w.dir, env: w.env, input: 'body' });
      expect(r.code).toBe(3);
      outputs.push(output(r));
    }
    const all = outputs.join('\n');
    expect(all).not.toContain(e.clientSecret);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(all).not.toMatch(/dXNlcj0/);
    // Thirteen CLI processes in a row: sized for a busy 2-core CI machine, where this timed out at 30 s.
  }, 600_000);
});
