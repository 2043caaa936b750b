// The README's library example is real: the code block equals examples/send-alert.mjs, and that file,
// with the README's YAML config pointed at the testkit, sends a message the fake Exchange receives.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function codeBlock(info: string): string {
  const start = readme.indexOf(`\n\`\`\`${info}\n`);
  if (start < 0) throw new Error(`README has no \`\`\`${info} block`);
  const body = start + info.length + 5;
  return readme.slice(body, readme.indexOf('\n```', body) + 1);
}

describe('README library example', () => {
  let env: TestEnvironment;
  let dir: string;
  beforeAll(async () => {
    env = await createTestEnvironment();
    // Inside this package so that `@org/core` resolves from its node_modules, as it would in an app.
    dir = mkdtempSync(join(new URL('..', import.meta.url).pathname, '.readme-example-'));
  });
  afterAll(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows exactly examples/send-alert.mjs', () => {
    expect(codeBlock('js')).toBe(readFileSync(join(root, 'examples/send-alert.mjs'), 'utf8'));
  });

  it('sends through the (fake) Microsoft 365 with the README config', async () => {
    const yaml = codeBlock('yaml config')
      .replace(/^host: .*$/m, `host: ${env.smtp.host}`)
      .replace(/^port: .*$/m, `port: ${env.smtp.port}`)
      .replace(/^user: .*$/m, `user: ${env.mailbox}`)
      .replace(/^ {2}tokenEndpoint: .*$/m, `  tokenEndpoint: ${env.tokenEndpoint}`)
      .replace(/^ {2}clientId: .*$/m, `  clientId: ${env.clientId}`)
      .concat(`tls:\n  ca: |\n${env.caPem.trim().replace(/^/gm, '    ')}\n`);
    expect(yaml).toContain('secret: env:SMTP_OAUTH_CLIENT_SECRET');
    writeFileSync(join(dir, 'smtp-oauth.config.yaml'), yaml);
    writeFileSync(join(dir, 'send-alert.mjs'), readFileSync(join(root, 'examples/send-alert.mjs')));

    const { stdout } = await promisify(execFile)(process.execPath, ['send-alert.mjs'], {
      cwd: dir,
      env: { ...process.env, SMTP_OAUTH_CLIENT_SECRET: env.clientSecret },
    });
    expect(stdout).toMatch(/^sent <.+>: 250 2\.0\.0 OK/);
    const message = await env.waitForMessage((m) => m.parsed.subject === 'Disk almost full');
    expect(message.envelope.rcptTo).toEqual(['ops@contoso.com']);
    expect(message.parsed.text?.trim()).toBe('sda1 is at 91%.');
  });
});
