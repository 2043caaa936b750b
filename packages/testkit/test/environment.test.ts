// The combined environment, the standalone `testkit` bin and the inspection API, driven the way a
// user would: a real nodemailer client, real HTTPS token requests, a real subprocess.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnvironment, type SandboxInfo, type TestEnvironment } from '../src/index.js';

function fetchToken(
  tokenEndpoint: string,
  ca: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const req = request(
      tokenEndpoint,
      { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function sendWith(
  info: { smtp: { host: string; port: number }; mailbox: string },
  ca: string,
  accessToken: string,
  subject: string,
) {
  const transport = nodemailer.createTransport({
    host: info.smtp.host,
    port: info.smtp.port,
    requireTLS: true,
    tls: { ca, minVersion: 'TLSv1.2' },
    auth: { type: 'OAuth2', user: info.mailbox, accessToken },
  });
  try {
    return await transport.sendMail({
      from: info.mailbox,
      to: 'someone@example.com',
      subject,
      text: 'hello',
    });
  } finally {
    transport.close();
  }
}

describe('createTestEnvironment', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(() => env.close());

  it('is set up end to end: a token for the secret works for XOAUTH2 and the message is stored', async () => {
    const token = await fetchToken(env.tokenEndpoint, env.caPem, {
      grant_type: 'client_credentials',
      client_id: env.clientId,
      client_secret: env.clientSecret,
      scope: env.scope,
    });
    expect(token.status).toBe(200);
    const info = await sendWith(env, env.caPem, String(token.body.access_token), 'env works');
    expect(info.response).toMatch(/^250 2\.0\.0 OK/);
    const msg = await env.waitForMessage((m) => m.parsed.subject === 'env works');
    expect(msg.identity).toMatchObject({ mailbox: env.mailbox, appId: env.clientId, tenantId: env.tenantId });
    expect(env.tokenRequests()).toHaveLength(1);
    expect(env.authAttempts().at(-1)).toMatchObject({ ok: true });
  });

  it('gives ready configs for the secret and the certificate', () => {
    expect(env.config.auth.credential).toEqual({ kind: 'secret', secret: env.clientSecret });
    expect(env.certificateConfig.auth.credential).toMatchObject({
      kind: 'certificate',
      thumbprint: env.certificate.thumbprintSha256,
    });
    expect(env.config).toMatchObject({
      host: '127.0.0.1',
      port: env.smtp.port,
      user: env.mailbox,
      tls: { ca: env.caPem },
    });
    expect(env.tokenEndpoint).toBe(`${env.authority}/oauth2/v2.0/token`);
  });

  it('lets a test break one setup step: no mailbox permission → 430 4.2.0', async () => {
    env.directory.removeMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    try {
      const token = await fetchToken(env.tokenEndpoint, env.caPem, {
        grant_type: 'client_credentials',
        client_id: env.clientId,
        client_secret: env.clientSecret,
        scope: env.scope,
      });
      await expect(
        sendWith(env, env.caPem, String(token.body.access_token), 'no permission'),
      ).rejects.toThrow(/430 4\.2\.0 STOREDRV; mailbox logon failure/);
    } finally {
      env.directory.addMailboxPermission(env.mailbox, env.servicePrincipal.identity);
    }
  });

  it('reset() forgets messages, attempts, token requests and faults', () => {
    env.faults.smtp.add({ stage: 'mail', reply: '451 4.3.0 try later' });
    env.reset();
    expect(env.messages()).toEqual([]);
    expect(env.authAttempts()).toEqual([]);
    expect(env.tokenRequests()).toEqual([]);
    expect(env.faults.smtp.list()).toEqual([]);
  });
});

describe('testkit start --json (standalone runner) and the inspection API', () => {
  let child: ChildProcess;
  let info: SandboxInfo;
  const bin = fileURLToPath(new URL('../dist/bin/testkit.js', import.meta.url));

  beforeAll(async () => {
    child = spawn(process.execPath, [bin, 'start', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    info = await new Promise<SandboxInfo>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as SandboxInfo);
      });
      child.once('exit', (code) => reject(new Error(`testkit exited early with ${code}`)));
    });
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });

  it('prints one JSON line with every field a client needs', () => {
    expect(Object.keys(info).sort()).toEqual(
      [
        'authority',
        'caFile',
        'certificateFile',
        'clientId',
        'clientSecret',
        'inspectUrl',
        'mailbox',
        'privateKeyFile',
        'scope',
        'smtp',
        'tenantDomain',
        'tenantId',
        'thumbprintSha1',
        'thumbprintSha256',
        'tokenEndpoint',
      ].sort(),
    );
    expect(readFileSync(info.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(readFileSync(info.privateKeyFile, 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('serves a real send, visible through the inspection API, and takes directory changes', async () => {
    const ca = readFileSync(info.caFile, 'utf8');
    const token = await fetchToken(info.tokenEndpoint, ca, {
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      scope: info.scope,
    });
    await sendWith(info, ca, String(token.body.access_token), 'from another process');
    const list = (await (await fetch(`${info.inspectUrl}/api/messages`)).json()) as Array<{
      id: string;
      subject: string;
    }>;
    expect(list.map((m) => m.subject)).toContain('from another process');
    const one = (await (await fetch(`${info.inspectUrl}/api/messages/${list[0]?.id}`)).json()) as {
      parsed: { text: string };
      transcript: { line: string }[];
    };
    expect(one.parsed.text.trim()).toBe('hello');
    expect(JSON.stringify(one.transcript)).not.toContain(String(token.body.access_token));
    const requests = (await (await fetch(`${info.inspectUrl}/api/token-requests`)).json()) as unknown[];
    expect(requests).toHaveLength(1);
    expect(JSON.stringify(requests)).not.toContain(info.clientSecret);

    // Revoke consent over HTTP: the next token has no roles, so Exchange refuses AUTH.
    const revoke = await fetch(`${info.inspectUrl}/api/directory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'revokeAdminConsent' }),
    });
    expect(revoke.status).toBe(200);
    const noRoles = await fetchToken(info.tokenEndpoint, ca, {
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      scope: info.scope,
    });
    await expect(sendWith(info, ca, String(noRoles.body.access_token), 'refused')).rejects.toThrow(
      /535 5\.7\.3/,
    );
    const attempts = (await (await fetch(`${info.inspectUrl}/api/auth-attempts`)).json()) as Array<{
      ok: boolean;
      reason: string;
    }>;
    expect(attempts.at(-1)).toMatchObject({ ok: false });
    expect(attempts.at(-1)?.reason).toMatch(/SMTP\.SendAsApp/);
  });

  it('answers bad requests with 4xx, not a crash', async () => {
    const bad = await fetch(`${info.inspectUrl}/api/directory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"action":',
    });
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${info.inspectUrl}/api/directory`, {
      method: 'POST',
      body: JSON.stringify({ action: 'dropTables' }),
    });
    expect(unknown.status).toBe(400);
    expect((await fetch(`${info.inspectUrl}/api/nothing`)).status).toBe(404);
  });

  it('removes its temporary files on SIGTERM', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    expect(existsSync(info.caFile)).toBe(false);
  });
});
