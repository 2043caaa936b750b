import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  catalogEntry,
  errorCatalog,
  errorCodes,
  isSmtpOAuthError,
  redactSecrets,
  SmtpOAuthError,
} from '../src/errors/index.js';

describe('errorCatalog', () => {
  it('has exactly one complete entry per code', () => {
    expect(errorCatalog.map((e) => e.code)).toEqual([...errorCodes]);
    for (const e of errorCatalog) {
      expect(e.title.length, e.code).toBeGreaterThan(5);
      expect(e.meaning.length, e.code).toBeGreaterThan(20);
      expect(e.fix.length, e.code).toBeGreaterThan(20);
    }
  });

  it('contains every code the brief requires', () => {
    for (const code of [
      'CONFIG_INVALID',
      'CONFIG_FILE_UNREADABLE',
      'CREDENTIAL_INVALID',
      'CREDENTIAL_EXPIRED',
      'TOKEN_INVALID_CLIENT_SECRET',
      'TOKEN_CLIENT_SECRET_EXPIRED',
      'TOKEN_APP_NOT_FOUND',
      'TOKEN_TENANT_NOT_FOUND',
      'TOKEN_INVALID_SCOPE',
      'TOKEN_SCOPE_NOT_VALID',
      'TOKEN_CERTIFICATE_NOT_REGISTERED',
      'TOKEN_ASSERTION_TIME_INVALID',
      'TOKEN_MISSING_CREDENTIAL',
      'TOKEN_RESOURCE_NOT_FOUND',
      'TOKEN_THROTTLED',
      'TOKEN_SERVICE_UNAVAILABLE',
      'TOKEN_ENDPOINT_REJECTED',
      'TOKEN_RESPONSE_INVALID',
      'TLS_REQUIRED',
      'TLS_CERTIFICATE_INVALID',
      'TLS_HANDSHAKE_FAILED',
      'SMTP_AUTH_REJECTED',
      'SMTP_AUTH_DISABLED',
      'SMTP_SECURITY_DEFAULTS',
      'SMTP_BASIC_AUTH_DISABLED',
      'SMTP_AUTH_MECHANISM_UNSUPPORTED',
      'SMTP_NOT_AUTHENTICATED',
      'SMTP_MAILBOX_LOGON_FAILED',
      'SMTP_SEND_AS_DENIED',
      'SMTP_CONCURRENCY_LIMIT',
      'SMTP_QUOTA_EXCEEDED',
      'SMTP_MAILBOX_FULL',
      'SMTP_REJECTED',
      'SMTP_TRANSIENT',
      'NETWORK_DNS',
      'NETWORK_CONNECT',
      'NETWORK_TIMEOUT',
      'MESSAGE_INVALID',
      'MESSAGE_HEADER_INJECTION',
      'MESSAGE_TOO_LARGE',
    ] as const) {
      expect(catalogEntry(code).code).toBe(code);
    }
  });

  it('classifies network and throttling as transient, credentials as permanent (S9)', () => {
    expect(catalogEntry('NETWORK_TIMEOUT').transient).toBe(true);
    expect(catalogEntry('TOKEN_THROTTLED').transient).toBe(true);
    expect(catalogEntry('SMTP_CONCURRENCY_LIMIT').transient).toBe(true);
    expect(catalogEntry('TOKEN_INVALID_CLIENT_SECRET').transient).toBe(false);
    expect(catalogEntry('SMTP_AUTH_REJECTED').transient).toBe(false);
  });

  it('is frozen so nobody rewrites the docs at run time', () => {
    expect(Object.isFrozen(errorCatalog)).toBe(true);
    expect(Object.isFrozen(errorCatalog[0])).toBe(true);
  });
});

describe('SmtpOAuthError', () => {
  it('carries code, catalog hint and transient by default, with ES2022 cause', () => {
    const cause = new Error('low level');
    const err = new SmtpOAuthError('NETWORK_TIMEOUT', 'timed out', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('NETWORK_TIMEOUT');
    expect(err.hint).toBe(catalogEntry('NETWORK_TIMEOUT').fix);
    expect(err.transient).toBe(true);
    expect(err.cause).toBe(cause);
    expect(isSmtpOAuthError(err)).toBe(true);
    expect(isSmtpOAuthError(new Error('x'))).toBe(false);
  });

  it('toJSON has no stack and no cause', () => {
    const err = new SmtpOAuthError('SMTP_REJECTED', 'nope', {
      cause: new Error('inner secret'),
      details: { a: 1 },
    });
    const json = JSON.parse(JSON.stringify(err));
    expect(json).toEqual({
      name: 'SmtpOAuthError',
      code: 'SMTP_REJECTED',
      message: 'nope',
      hint: catalogEntry('SMTP_REJECTED').fix,
      transient: false,
      details: { a: 1 },
    });
    expect(JSON.stringify(err)).not.toContain('inner secret');
  });

  it('redacts tokens that slip into message or hint', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.c2lnbmF0dXJl';
    const err = new SmtpOAuthError('SMTP_REJECTED', `got ${jwt}`, { hint: `Bearer ${jwt}` });
    expect(err.message).not.toContain(jwt);
    expect(err.hint).not.toContain(jwt);
  });
});

describe('ConfigError', () => {
  it('lists every issue with its path and exposes them', () => {
    const err = new ConfigError(
      [
        { path: 'auth.scope', message: 'must be x' },
        { path: 'port', message: 'too big' },
      ],
      { source: '/etc/smtp.yaml' },
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('Invalid configuration in /etc/smtp.yaml: auth.scope: must be x; port: too big');
    expect(err.issues).toHaveLength(2);
    expect(err.details).toMatchObject({ source: '/etc/smtp.yaml', issues: err.issues });
    expect(err).toBeInstanceOf(SmtpOAuthError);
  });

  it('can carry a credential code', () => {
    const err = new ConfigError([{ path: 'auth.credential.thumbprint', message: 'mismatch' }], {
      code: 'CREDENTIAL_INVALID',
    });
    expect(err.code).toBe('CREDENTIAL_INVALID');
    expect(err.hint).toBe(catalogEntry('CREDENTIAL_INVALID').fix);
  });
});

describe('redactSecrets', () => {
  const jwt =
    'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSIsInJvbGVzIjpbXX0.' +
    'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4';

  it('removes JWTs and bearer tokens', () => {
    expect(redactSecrets(`token ${jwt} end`)).toBe('token [REDACTED] end');
    expect(redactSecrets('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer [REDACTED]');
  });

  it('removes a base64 XOAUTH2 blob, in AUTH lines and alone', () => {
    const blob = Buffer.from(`user=noreply@contoso.com\x01auth=Bearer ${jwt}\x01\x01`).toString('base64');
    expect(redactSecrets(`AUTH XOAUTH2 ${blob}`)).toBe('AUTH XOAUTH2 [REDACTED]');
    expect(redactSecrets(`500 5.5.2 unrecognized ${blob}`)).not.toContain(blob.slice(0, 20));
  });

  // Regression (issue 13 §6): a server that echoed the AUTH PLAIN blob in its 535 reply leaked it.
  describe('every SASL credential form, in any reply or transcript (canaries)', () => {
    const PW = 'CANARY-pw-3e9f';
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const forms: [string, string][] = [
      ['PLAIN', b64(`\0user@contoso.com\0${PW}`)],
      ['PLAIN with authzid', b64(`admin\0user@contoso.com\0${PW}`)],
      ['XOAUTH2', b64(`user=user@contoso.com\x01auth=Bearer ${PW}\x01\x01`)],
      [
        'OAUTHBEARER',
        b64(`n,a=user@contoso.com,\x01host=smtp.office365.com\x01port=587\x01auth=Bearer ${PW}\x01\x01`),
      ],
    ];
    it.each(forms)('%s: echoed bare in a 535 reply, after AUTH, and in a transcript', (_name, blob) => {
      for (const text of [
        `535 5.7.8 Authentication credentials invalid: ${blob}`,
        `535 5.7.8 Error: authentication failed: ${blob}.`,
        `C: AUTH ${_name.split(' ')[0]} ${blob}\nS: 535 5.7.8 nope`,
        `S: 334 \nC: ${blob}\nS: 535 5.7.8 nope`,
        JSON.stringify({ reply: `535 ${blob}` }),
      ]) {
        const out = redactSecrets(text);
        expect(out).not.toContain(blob.slice(0, 16));
        expect(out).toContain('[REDACTED]');
      }
    });
    it('AUTH LOGIN: the lines answering 334 prompts in a transcript, and a known password in any base64 form', () => {
      const transcript = `C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: ${b64('user@contoso.com')}\nS: 334 UGFzc3dvcmQ6\nC: ${b64(PW)}\nS: 535 5.7.8 nope`;
      const out = redactSecrets(transcript);
      expect(out).not.toContain(b64(PW));
      expect(out).toContain('S: 535 5.7.8 nope');
      // A reply quoting the LOGIN password line alone cannot be recognised by shape: the known value can.
      const echoed = `535 5.7.8 Authentication failed for ${b64(PW)}`;
      expect(redactSecrets(echoed, [PW])).toBe('535 5.7.8 Authentication failed for [REDACTED]');
      for (const pad of ['', 'x', 'xy'])
        expect(redactSecrets(`535 ${b64(`${pad}\0u\0${PW}`)}`, [PW])).not.toContain(
          b64(`${pad}\0u\0${PW}`).slice(8, 20),
        );
      expect(redactSecrets(`plain ${PW} text`, [PW])).toBe('plain [REDACTED] text');
    });
    it('core errors built from such a reply carry no form of the secret in message, hint or details', () => {
      const blob = b64(`\0user@contoso.com\0${PW}`);
      const err = new SmtpOAuthError('SMTP_AUTH_REJECTED', `SMTP server replied: 535 ${blob}`, {
        details: { reply: `535 ${blob}`, transcript: [`S: 535 ${blob}`] },
      });
      expect(JSON.stringify(err.toJSON())).not.toContain(blob.slice(0, 16));
    });
  });

  it('removes the decoded XOAUTH2 form', () => {
    expect(redactSecrets('user=a@b.c\x01auth=Bearer ya29.secret-token\x01\x01')).not.toContain(
      'secret-token',
    );
  });

  it('removes secret-bearing parameters in form and JSON bodies', () => {
    expect(redactSecrets('client_id=x&client_secret=s3cr3t~value&scope=y')).toBe(
      'client_id=x&client_secret=[REDACTED]&scope=y',
    );
    expect(redactSecrets('{"access_token":"abc","token_type":"Bearer"}')).not.toContain('abc');
    expect(redactSecrets('password=hunter2')).toBe('password=[REDACTED]');
  });

  // Regression: "auth.credential.passphrase: is required" once lost its "is" to the key=value rule.
  it('leaves field-path messages alone', () => {
    const msg = 'auth.credential.passphrase: is required; auth.password: must not contain line breaks';
    expect(redactSecrets(msg)).toBe(msg);
  });

  it('removes private keys', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';
    expect(redactSecrets(`key: ${key}`)).toBe('key: [REDACTED]');
  });

  it('keeps what users need: thumbprints, trace ids, Exchange texts, Google challenge', () => {
    const texts = [
      "Thumbprint of key used by client: '84E05C1D2A6B3F4E5D6C7B8A9F0E1D2C3B4A5968'",
      'Trace ID: aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
      '535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]',
      '334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K',
    ];
    for (const t of texts) expect(redactSecrets(t)).toBe(t);
  });

  it('removes long opaque base64 runs', () => {
    const opaque = Buffer.from('x'.repeat(200)).toString('base64');
    expect(redactSecrets(`token=${opaque}`)).not.toContain(opaque);
    expect(redactSecrets(`opaque ${opaque}`)).toBe('opaque [REDACTED]');
  });
});
