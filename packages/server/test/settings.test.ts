import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config.js';

describe('loadSettings (entry point env)', () => {
  it('has zero-setup defaults', () => {
    expect(loadSettings({})).toMatchObject({
      port: 8025,
      host: '127.0.0.1',
      dataDir: resolve('./.data'),
      keyFile: resolve('./.data/keys'),
      databaseUrl: undefined,
      tokenHostAllowlist: [],
      allowPrivateSmtpHosts: false,
      webhooks: { allowHttp: false, allowPrivateTargets: false },
      secureCookies: 'auto',
      sandbox: false,
    });
  });

  it('reads every variable', () => {
    const s = loadSettings(
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        DATA_DIR: '/tmp/x',
        DATABASE_URL: 'postgres://u@h/db',
        SMTP_OAUTH_KEYS: 'k1:abc',
        ADMIN_EMAIL: 'ops@example.com',
        ADMIN_PASSWORD: 'pw',
        TOKEN_HOST_ALLOWLIST: 'idp.example.org, sso.example.com',
        SMTP_ALLOW_PRIVATE_HOSTS: 'true',
        WEBHOOK_ALLOW_HTTP: 'yes',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        SECURE_COOKIES: '1',
        TRUST_PROXY: '1',
      },
      ['--sandbox'],
    );
    expect(s).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/tmp/x',
      keyFile: '/tmp/x/keys',
      databaseUrl: 'postgres://u@h/db',
      keys: 'k1:abc',
      adminEmail: 'ops@example.com',
      tokenHostAllowlist: ['idp.example.org', 'sso.example.com'],
      allowPrivateSmtpHosts: true,
      webhooks: { allowHttp: true, allowPrivateTargets: true },
      secureCookies: true,
      trustProxy: 1,
      sandbox: true,
    });
  });

  it('names the variable, never echoes the value', () => {
    expect(() => loadSettings({ PORT: 'abc' })).toThrowError(/PORT/);
    expect(() => loadSettings({ SMTP_ALLOW_PRIVATE_HOSTS: 'maybe-secret' })).toThrowError(
      expect.objectContaining({ message: expect.not.stringContaining('maybe-secret') }),
    );
    expect(() => loadSettings({ WEBHOOK_ALLOW_HTTP: 'maybe' })).toThrowError(/WEBHOOK_ALLOW_HTTP/);
  });
});
