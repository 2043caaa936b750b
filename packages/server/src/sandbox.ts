import { randomBytes } from 'node:crypto';
import { type Sandbox, type SandboxInfo, type SandboxOptions, startSandbox } from '@org/testkit';
import type { SandboxClientSecretResponse, SandboxPracticeResponse } from '@org/core/api';
import forge from 'node-forge';
import { generateApiKey } from './auth/api-keys.js';
import type { AppContext } from './context.js';
import { createEmailServer, updateEmailServer } from './email-servers.js';
import { newId } from './store/ids.js';

/** Name of the entry sandbox mode seeds (and finds again on the next start). */
export const SANDBOX_ENTRY_NAME = 'Sandbox (Microsoft 365 emulator)';

/** Sandbox mode as `createServer` runs it: the testkit, and the entry that points at it. */
export interface SandboxMode {
  /** The testkit's sandbox: a fake Entra token endpoint, an Exchange-like SMTP server, its inspection API. */
  readonly sandbox: Sandbox;
  readonly info: SandboxInfo;
  /** Id of the seeded entry (the default). */
  readonly entryId: string;
  /**
   * An API key for `POST /api/send`, made at this start so the printed curl example works as is.
   * The previous start's key is revoked.
   */
  readonly apiKey: string;
}

/** Name of the API key sandbox mode creates at every start. */
export const SANDBOX_API_KEY_NAME = 'Sandbox (printed at start)';

/** Revokes the previous sandbox key and creates a new one; returns the key (shown once). */
export async function createSandboxApiKey(ctx: AppContext): Promise<string> {
  const now = ctx.now();
  for (const row of await ctx.repos.apiKeys.list()) {
    if (row.name === SANDBOX_API_KEY_NAME && row.revoked_at === null)
      await ctx.repos.apiKeys.revoke(row.id, now);
  }
  const { key, prefix, hash } = generateApiKey();
  const id = newId();
  await ctx.repos.apiKeys.insert({
    id,
    name: SANDBOX_API_KEY_NAME,
    prefix,
    key_hash: hash,
    created_at: now.toISOString(),
    created_by: 'system:sandbox',
    revoked_at: null,
    last_used_at: null,
  });
  await ctx.audit.record({
    actor: 'system:sandbox',
    action: 'api-key.create',
    target: id,
    fields: ['name'],
    outcome: 'ok',
  });
  return key;
}

/** Options of sandbox mode (`createServer({ sandbox })`). */
export interface SandboxModeOptions {
  /** Passed to the testkit's `startSandbox` (ports, limits, persona). @default Exchange-like, free ports */
  testkit?: SandboxOptions;
}

/** Starts the testkit sandbox; the caller allows exactly its endpoints before seeding. */
export function startTestkit(options: SandboxModeOptions): Promise<Sandbox> {
  return startSandbox(options.testkit ?? {});
}

/**
 * Seeds (idempotently: found again by name and updated, never duplicated) the entry that sends
 * through the sandbox, and makes it the default. The testkit's ports, tenant and secret are new on
 * every start, so the entry is rewritten each time.
 */
export async function seedSandboxEntry(
  ctx: AppContext,
  sandbox: Sandbox,
  options: SandboxModeOptions,
): Promise<string> {
  const limits = options.testkit?.limits === false ? undefined : { maxConnections: 3, messagesPerMinute: 30 };
  const config = {
    ...sandbox.env.config,
    name: SANDBOX_ENTRY_NAME,
    // The emulator enforces Exchange's per-mailbox limits; the mailer respects them as it does for
    // Microsoft's own hosts (the testkit listens on 127.0.0.1, which core cannot recognise as Exchange).
    ...(limits ? { limits } : {}),
  };
  const existing = await ctx.repos.emailServers.getByName(SANDBOX_ENTRY_NAME);
  const { emailServer } = existing
    ? await updateEmailServer(ctx, existing.id, config, 'system:sandbox', null)
    : await createEmailServer(ctx, config, 'system:sandbox', null);
  if (!emailServer.isDefault) await ctx.repos.emailServers.setDefault(emailServer.id);
  ctx.runtimes.invalidate(emailServer.id);
  ctx.lookups.emailServers.clear();
  return emailServer.id;
}

// ── Practice credentials ───────────────────────────────────────────────────────────────────────

/** The files an admin downloads from the practice panel, as from the Entra portal or their PKI. */
export const PRACTICE_FILES = {
  'certificate.pem': { type: 'application/x-pem-file', what: 'the certificate registered on the app' },
  'private-key.pem': { type: 'application/x-pem-file', what: "the certificate's private key (PKCS#8)" },
  'certificate.pfx': { type: 'application/x-pkcs12', what: 'certificate and key as PKCS#12' },
  'ca.pem': { type: 'application/x-pem-file', what: 'the CA the sandbox servers present' },
} as const;
export type PracticeFileName = keyof typeof PRACTICE_FILES;

/** What the practice panel shows: the sandbox tenant's ids, as the Entra portal shows them. */
export type PracticeFacts = SandboxPracticeResponse;

/**
 * Practice credentials of the sandbox's fake tenant, so an admin can rehearse creating an entry
 * exactly as from the Entra portal: ids, a client secret made on request (shown once), and the
 * certificate, key, PFX and CA to download. They open nothing outside the sandbox: the tenant, its
 * app and its mailbox exist only in the testkit of this process.
 */
export interface PracticeCredentials {
  facts(): PracticeFacts;
  /** Adds a client secret to the sandbox app ("Certificates & secrets → New client secret"). */
  newClientSecret(): SandboxClientSecretResponse;
  file(name: PracticeFileName): Buffer;
}

export function createPracticeCredentials(sandbox: Sandbox): PracticeCredentials {
  const { env, info } = sandbox;
  const pfxPassphrase = `practice-${randomBytes(6).toString('hex')}`;
  let pfx: Buffer | undefined;
  const pfxFile = (): Buffer => {
    pfx ??= Buffer.from(
      forge.asn1
        .toDer(
          forge.pkcs12.toPkcs12Asn1(
            forge.pki.privateKeyFromPem(env.certificate.privateKeyPem),
            [forge.pki.certificateFromPem(env.certificate.certificatePem)],
            pfxPassphrase,
            { algorithm: 'aes256', friendlyName: 'smtp-oauth sandbox' },
          ),
        )
        .getBytes(),
      'binary',
    );
    return pfx;
  };
  return {
    facts: () => ({
      tenantId: info.tenantId,
      tenantDomain: info.tenantDomain,
      clientId: info.clientId,
      mailbox: info.mailbox,
      scope: info.scope,
      tokenEndpoint: info.tokenEndpoint,
      smtp: info.smtp,
      thumbprintSha1: info.thumbprintSha1,
      thumbprintSha256: info.thumbprintSha256,
      pfxPassphrase,
      files: Object.entries(PRACTICE_FILES).map(([name, f]) => ({
        name: name as PracticeFileName,
        what: f.what,
      })),
    }),
    newClientSecret() {
      const secret = env.directory.addSecret(info.clientId);
      return { id: secret.id, value: secret.value, expiresAt: new Date(secret.expiresAt).toISOString() };
    },
    file(name) {
      switch (name) {
        case 'certificate.pem':
          return Buffer.from(env.certificate.certificatePem);
        case 'private-key.pem':
          return Buffer.from(env.certificate.privateKeyPem);
        case 'certificate.pfx':
          return pfxFile();
        case 'ca.pem':
          return Buffer.from(env.caPem);
      }
    },
  };
}
