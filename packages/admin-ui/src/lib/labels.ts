import type { EmailServer } from '../api/client.js';

/** Human names for config values shown in lists and summaries. */
export function authLabel(server: EmailServer): string {
  const auth = server.config.auth;
  if (auth.type === 'password') return 'Password (legacy)';
  if (auth.type === 'none') return 'None';
  const kind =
    auth.credential.kind === 'secret'
      ? 'client secret'
      : auth.credential.kind === 'pfx'
        ? 'PFX certificate'
        : 'certificate';
  return `OAuth2 · ${kind}`;
}

export function securityLabel(security: string | undefined): string {
  return security === 'tls' ? 'Implicit TLS' : 'STARTTLS';
}
