/**
 * The standalone sandbox: a test environment plus its inspection API, with the CA, certificate and
 * key written to files so clients in any language can use them. Used by the `testkit` bin, the
 * CLI's `smtp-oauth sandbox` and the server's `--sandbox` mode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment, type TestEnvironmentOptions } from './environment.js';
import { createInspectServer } from './inspect/index.js';

/** What `testkit start --json` prints: everything a client needs, as one JSON object. */
export interface SandboxInfo {
  tokenEndpoint: string;
  authority: string;
  caFile: string;
  tenantId: string;
  tenantDomain: string;
  clientId: string;
  clientSecret: string;
  certificateFile: string;
  privateKeyFile: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  mailbox: string;
  scope: string;
  smtp: { host: string; port: number };
  inspectUrl: string;
}

export interface Sandbox {
  readonly env: TestEnvironment;
  readonly info: SandboxInfo;
  /** Stops the servers and removes the files. */
  close(): Promise<void>;
}

export interface SandboxOptions extends TestEnvironmentOptions {
  /** @default 0 (a free port) */
  inspectPort?: number;
  /** Where to write the CA/certificate/key files. @default a new temporary directory, removed on close */
  dir?: string;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const env = await createTestEnvironment(options);
  let inspect: Awaited<ReturnType<typeof createInspectServer>>;
  try {
    inspect = await createInspectServer(env, {
      ...(options.host && { host: options.host }),
      ...(options.inspectPort !== undefined && { port: options.inspectPort }),
    });
  } catch (error) {
    await env.close();
    throw error;
  }
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'smtp-oauth-testkit-'));
  const caFile = join(dir, 'ca.pem');
  const certificateFile = join(dir, 'client-certificate.pem');
  const privateKeyFile = join(dir, 'client-private-key.pem');
  writeFileSync(caFile, env.caPem);
  writeFileSync(certificateFile, env.certificate.certificatePem);
  writeFileSync(privateKeyFile, env.certificate.privateKeyPem, { mode: 0o600 });

  const info: SandboxInfo = {
    tokenEndpoint: env.tokenEndpoint,
    authority: env.authority,
    caFile,
    tenantId: env.tenantId,
    tenantDomain: env.tenantDomain,
    clientId: env.clientId,
    clientSecret: env.clientSecret,
    certificateFile,
    privateKeyFile,
    thumbprintSha1: env.certificate.thumbprintSha1,
    thumbprintSha256: env.certificate.thumbprintSha256,
    mailbox: env.mailbox,
    scope: env.scope,
    smtp: env.smtp,
    inspectUrl: inspect.url,
  };
  return {
    env,
    info,
    async close() {
      await Promise.allSettled([inspect.close(), env.close()]);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      else for (const f of [caFile, certificateFile, privateKeyFile]) rmSync(f, { force: true });
    },
  };
}
