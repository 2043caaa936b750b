import type { EmailServerConfig } from './schema.js';
import { expectEmailServerConfig } from '../internal/guard.js';
import { splitSecrets } from './secrets.js';

/** A credential as shown to humans: whether it is set, never its value. */
export type PublicCredential =
  | { kind: 'secret'; clientSecretSet: true }
  | {
      kind: 'certificate' | 'pfx';
      set: true;
      thumbprint?: string;
      /** Public facts of the certificate, added by the Node-side `redactConfigWithCertificate`. */
      certificate?: {
        thumbprint: string;
        thumbprintSha256: string;
        subject: string;
        issuer: string;
        notBefore: string;
        notAfter: string;
        daysUntilExpiry: number;
      };
      /** Why the credential cannot be used (e.g. `CREDENTIAL_EXPIRED`), added Node-side. */
      problem?: { code: string; message: string };
    };

/** The `auth` part of a redacted entry. */
export type PublicAuthConfig =
  | (Omit<Extract<EmailServerConfig['auth'], { type: 'oauth2' }>, 'credential'> & {
      credential: PublicCredential;
    })
  | { type: 'password'; passwordSet: true }
  | { type: 'none' };

/** An entry safe to display or return over HTTP. */
export type PublicEmailServerConfig = Omit<EmailServerConfig, 'auth'> & { auth: PublicAuthConfig };

/**
 * Returns the entry with every secret replaced by a "set" flag (client secret, private key, PFX,
 * passphrase, password). The thumbprint, being public, is kept.
 *
 * @remarks Use for every API response, log line and UI state; the UI can set a secret, never read it.
 */
export function redactConfig(config: EmailServerConfig): PublicEmailServerConfig {
  expectEmailServerConfig(config);
  // Every secret field (config/secrets.ts) is dropped first, so a new secret field can never leak here.
  const { auth, ...rest } = splitSecrets(config as unknown as Record<string, unknown>)
    .publicConfig as unknown as EmailServerConfig;
  let publicAuth: PublicAuthConfig;
  if (auth.type === 'oauth2') {
    const { credential, ...authRest } = auth;
    let cred: PublicCredential;
    if (credential.kind === 'secret') cred = { kind: 'secret', clientSecretSet: true };
    else {
      cred = credential.thumbprint
        ? { kind: credential.kind, set: true, thumbprint: credential.thumbprint }
        : { kind: credential.kind, set: true };
    }
    publicAuth = { ...authRest, credential: cred };
  } else if (auth.type === 'password') publicAuth = { type: 'password', passwordSet: true };
  else publicAuth = { type: 'none' };
  return { ...rest, auth: publicAuth };
}
