import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { output, runCli } from './helpers.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const dir = mkdtempSync(join(tmpdir(), 'smtp-oauth-cli-cloud-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (host: string, login: string, scope: string) => ({
  name: 'gcc',
  host,
  user: 'noreply@contoso.com',
  auth: {
    type: 'oauth2',
    provider: 'entra',
    tokenEndpoint: `https://${login}/${TENANT}/oauth2/v2.0/token`,
    clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    scope,
    credential: { kind: 'secret', secret: 'env:SMTP_OAUTH_CLIENT_SECRET' },
  },
});

describe('smtp-oauth config validate: one cloud per entry', () => {
  // Regression: a GCC High SMTP host with the global token endpoint and scope was "valid".
  it('refuses smtp.office365.us with a global token endpoint and scope, naming the field and the values', async () => {
    const file = join(dir, 'mixed.json');
    writeFileSync(
      file,
      JSON.stringify(
        entry('smtp.office365.us', 'login.microsoftonline.com', 'https://outlook.office365.com/.default'),
      ),
    );
    const r = await runCli(['config', 'validate', '--config', file], {
      cwd: dir,
      env: { SMTP_OAUTH_CLIENT_SECRET: 'not-a-real-secret~1' },
    });
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain('host');
    expect(output(r)).toContain('US Government (GCC High)');
    expect(output(r)).toContain('https://login.microsoftonline.us/');
    expect(output(r)).toContain('https://outlook.office365.us/.default');
  });

  it('accepts the same entry with every field in GCC High', async () => {
    const file = join(dir, 'gcc.json');
    writeFileSync(
      file,
      JSON.stringify(
        entry('smtp.office365.us', 'login.microsoftonline.us', 'https://outlook.office365.us/.default'),
      ),
    );
    const r = await runCli(['config', 'validate', '--config', file], {
      cwd: dir,
      env: { SMTP_OAUTH_CLIENT_SECRET: 'not-a-real-secret~1' },
    });
    expect(r.code, output(r)).toBe(0);
  });
});
