import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import { loadConfigFile } from '../src/config/load.js';
import { fileEncodingProblem, pasteDamage } from '../src/config/paste-damage.js';
import { ConfigError, SmtpOAuthError } from '../src/errors/index.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const SECRET = 'Abc8Q~canary.secret_value-0123456789abcd';
const THUMBPRINT = 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678';

const entry = (auth: Record<string, unknown> = {}, credential: Record<string, unknown> = {}) => ({
  name: 'main',
  host: 'smtp.office365.com',
  user: 'noreply@contoso.com',
  auth: {
    type: 'oauth2',
    provider: 'entra',
    tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    clientId: CLIENT_ID,
    scope: 'https://outlook.office365.com/.default',
    credential: { kind: 'secret', secret: SECRET, ...credential },
    ...auth,
  },
});

function issues(input: unknown): { path: string; message: string }[] {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.issues.map(({ path, message }) => ({ path, message }));
}

describe('copy-paste damage is refused at validation, named with its place', () => {
  it('carries its own issue code, so the admin UI can tell it from a wrong format', () => {
    const result = parseConfig(entry({}, { secret: `"${SECRET}"` }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toEqual([expect.objectContaining({ code: 'PASTE_DAMAGE' })]);
  });
  it.each([
    ['double quotes (env file)', `"${SECRET}"`, /wrapped in quotes \("…"\)/],
    ['single quotes', `'${SECRET}'`, /wrapped in quotes \('…'\)/],
    ['typographic quotes (Word, Teams)', `\u201c${SECRET}\u201d`, /wrapped in quotes/],
    ['a leading space', ` ${SECRET}`, /starts with a space/],
    ['a trailing tab', `${SECRET}\t`, /ends with a tab/],
    [
      'a zero width space inside',
      `${SECRET.slice(0, 5)}\u200b${SECRET.slice(5)}`,
      /U\+200B ZERO WIDTH SPACE at character 6/,
    ],
    ['a trailing no-break space', `${SECRET}\u00a0`, /U\+00A0 NO-BREAK SPACE at the end/],
    ['a byte-order mark', `\ufeff${SECRET}`, /U\+FEFF BYTE ORDER MARK .* at the start/],
  ])('secret with %s', (_label, secret, message) => {
    const found = issues(entry({}, { secret }));
    expect(found).toEqual([{ path: 'auth.credential.secret', message: expect.stringMatching(message) }]);
    // Never the value itself.
    expect(JSON.stringify(found)).not.toContain(SECRET.slice(5));
  });

  it('a thumbprint copied from the Windows certificate dialog (leading U+200E) is named', () => {
    const found = issues(
      entry(
        {},
        {
          kind: 'certificate',
          secret: undefined,
          certificatePem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
          privateKeyPem: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
          thumbprint: `\u200e${THUMBPRINT}`,
        },
      ),
    );
    expect(found).toContainEqual({
      path: 'auth.credential.thumbprint',
      message: expect.stringMatching(/U\+200E LEFT-TO-RIGHT MARK at the start/),
    });
    // Spaces and colons between hex pairs stay allowed.
    expect(pasteDamage('a1:b2 c3', 'thumbprint')).toBeUndefined();
  });

  it('a client ID with a trailing space is named, not called "not a GUID"', () => {
    const found = issues(entry({ clientId: `${CLIENT_ID} ` }));
    expect(found).toEqual([{ path: 'auth.clientId', message: expect.stringMatching(/ends with a space/) }]);
  });

  it("a GUID as the secret is refused for any Entra token endpoint, not only provider 'entra'", () => {
    const found = issues(entry({ provider: 'generic' }, { secret: '9a8b7c6d-1111-2222-3333-444455556666' }));
    expect(found).toContainEqual({
      path: 'auth.credential.secret',
      message: expect.stringMatching(/secret's ID/),
    });
  });

  it('clean values pass', () => {
    expect(parseConfig(entry()).ok).toBe(true);
  });
});

describe('UTF-16 files are named', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'core-paste-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const utf16le = (text: string, bom = true) =>
    Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);

  it('a secret file written by PowerShell 5 (UTF-16 LE with BOM) → CONFIG_FILE_UNREADABLE naming the field and encoding', async () => {
    await writeFile(join(dir, 'secret.txt'), utf16le(`${SECRET}\r\n`));
    await writeFile(join(dir, 'smtp.json'), JSON.stringify(entry({}, { secret: 'file:secret.txt' })));
    const err = (await loadConfigFile(join(dir, 'smtp.json')).catch((e: unknown) => e)) as SmtpOAuthError;
    expect(err).toBeInstanceOf(SmtpOAuthError);
    expect(err.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(err.message).toMatch(
      /auth\.credential\.secret .*secret\.txt is encoded as UTF-16 LE \(byte-order mark FF FE\); save it as UTF-8/,
    );
    expect(err.message).not.toContain(SECRET);
  });

  it('a config file in UTF-16 is named too (not a JSON syntax error)', async () => {
    await writeFile(join(dir, 'smtp.json'), utf16le(JSON.stringify(entry())));
    const err = (await loadConfigFile(join(dir, 'smtp.json')).catch((e: unknown) => e)) as SmtpOAuthError;
    expect(err).not.toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(err.message).toMatch(/UTF-16 LE/);
  });

  it('detects BOM-less UTF-16 and leaves UTF-8 alone', () => {
    expect(fileEncodingProblem(utf16le(SECRET, false))).toMatch(/UTF-16 LE \(every other byte is 0\)/);
    expect(fileEncodingProblem(Buffer.from([0xfe, 0xff, 0, 0x41]))).toMatch(/UTF-16 BE/);
    expect(fileEncodingProblem(Buffer.from(`\ufeff${SECRET}`, 'utf8'))).toBeUndefined();
    expect(fileEncodingProblem(Buffer.from('é secret', 'utf8'))).toBeUndefined();
  });
});
