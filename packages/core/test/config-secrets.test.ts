import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_FIELDS,
  changedDestination,
  DESTINATION_PATHS,
  mergeSecrets,
  planSecretUpdate,
  SECRET_PATHS,
  splitSecrets,
  validateUpdate,
} from '../src/config/index.js';

const stored = {
  name: 'Contoso',
  host: 'smtp.office365.com',
  port: 587,
  security: 'starttls',
  user: 'noreply@contoso.com',
  auth: {
    type: 'oauth2',
    provider: 'entra',
    tokenEndpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
    clientId: 'c',
    scope: 'https://outlook.office365.com/.default',
    credential: { kind: 'secret' },
  },
};
const update = (over: Record<string, unknown> = {}, auth: Record<string, unknown> = {}) => ({
  ...structuredClone(stored),
  ...over,
  auth: { ...structuredClone(stored.auth), ...auth },
});

describe('config/secrets: one home for secret fields (S3)', () => {
  it('splits every secret path out and merges it back', () => {
    const full = update({}, { credential: { kind: 'secret', secret: 's3cr3t' } });
    const { publicConfig, secrets } = splitSecrets(full);
    expect(secrets).toEqual({ 'auth.credential.secret': 's3cr3t' });
    expect(JSON.stringify(publicConfig)).not.toContain('s3cr3t');
    expect(mergeSecrets(publicConfig, secrets)).toEqual(full);
    expect(CREDENTIAL_FIELDS.filter((f) => f.secret).map((f) => f.path)).toEqual([...SECRET_PATHS]);
  });

  it('an omitted secret is carried when nothing that decides its destination changed', () => {
    const plan = planSecretUpdate(update({ name: 'Renamed', port: undefined }), stored, [
      'auth.credential.secret',
    ]);
    expect(plan).toMatchObject({ carried: ['auth.credential.secret'], required: [], destinationChanged: [] });
  });

  // One row per destination field: each alone makes the stored secret required again.
  const moves: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['host', { host: 'evil.example' }, {}],
    ['port', { port: 2525 }, {}],
    ['security', { port: 2525, security: 'tls' }, {}],
    ['tls.ca', { tls: { ca: '-----BEGIN CERTIFICATE-----' } }, {}],
    ['proxy', { proxy: { url: 'http://127.0.0.1:3128' } }, {}],
    ['auth.type', {}, { type: 'password' }],
    ['auth.provider', {}, { provider: 'generic' }],
    ['auth.tokenEndpoint', {}, { tokenEndpoint: 'https://login.microsoftonline.com/u/oauth2/v2.0/token' }],
    ['auth.proxy', {}, { proxy: 'http://127.0.0.1:3128' }],
  ];
  it.each(moves)('%s changed → the stored secret is required, never carried', (field, over, auth) => {
    const input = update(over, auth);
    expect(changedDestination(input, stored)).toContain(field);
    const plan = planSecretUpdate(input, stored, ['auth.credential.secret']);
    expect(plan.carried).toEqual([]);
    if (field === 'auth.type')
      expect(plan.required).toEqual([]); // a password entry never had this secret
    else
      expect(plan.required).toEqual([
        { path: 'auth.credential.secret', message: expect.stringContaining(`${field} changed`) },
      ]);
  });

  it('covers every destination field in the table above', () => {
    expect(moves.map(([f]) => f).sort()).toEqual([...DESTINATION_PATHS].sort());
  });

  it('a supplied secret is never "required"', () => {
    const plan = planSecretUpdate(
      update({ host: 'other.example' }, { credential: { kind: 'secret', secret: 'new' } }),
      stored,
      ['auth.credential.secret'],
    );
    expect(plan.required).toEqual([]);
  });

  it('a certificate: the PEM is kept with its key; a move requires the key, a PFX move requires the PFX only', () => {
    const cert = update({}, { credential: { kind: 'certificate', certificatePem: 'PEM' } });
    const plan = planSecretUpdate(update({}, { credential: { kind: 'certificate' } }), cert, [
      'auth.credential.privateKeyPem',
    ]);
    expect(plan.carried).toEqual(['auth.credential.privateKeyPem']);
    expect((plan.input as typeof cert).auth.credential).toEqual({
      kind: 'certificate',
      certificatePem: 'PEM',
    });
    const moved = planSecretUpdate(
      update({ host: 'x.example' }, { credential: { kind: 'certificate' } }),
      cert,
      ['auth.credential.privateKeyPem'],
    );
    expect(moved.required.map((r) => r.path)).toEqual(['auth.credential.privateKeyPem']);
    const pfx = update({}, { credential: { kind: 'pfx' } });
    expect(
      planSecretUpdate(update({ port: 465, security: 'tls' }, { credential: { kind: 'pfx' } }), pfx, [
        'auth.credential.pfxBase64',
        'auth.credential.passphrase',
      ]).required.map((r) => r.path),
    ).toEqual(['auth.credential.pfxBase64']);
  });

  it('validateUpdate: an editor checks a form that omits kept secrets without inventing stand-ins', () => {
    const form = update(
      { port: 587 },
      { clientId: '11111111-2222-3333-4444-555555555555', credential: { kind: 'secret' } },
    );
    const withTenant = {
      ...form,
      auth: {
        ...form.auth,
        tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      },
    };
    expect(validateUpdate(withTenant, ['auth.credential.secret'])).toMatchObject({ ok: true, issues: [] });
    const missing = validateUpdate(withTenant, []);
    expect(missing.ok).toBe(false);
    expect(missing.issues.map((i) => i.path)).toContain('auth.credential.secret');
    // Other fields are still checked.
    expect(
      validateUpdate({ ...withTenant, host: 'https://x' }, ['auth.credential.secret']).issues[0]?.path,
    ).toBe('host');
  });
});
