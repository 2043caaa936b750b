// The S5 rule for one URL a token client is about to contact. Imports only @org/core (and types), so
// the mailer thread can apply it too (see mailer-host/worker.ts).
import { type CheckUrl, SmtpOAuthError } from '@org/core';
import type { TokenEndpointPolicy } from './outbound.js';

const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** Why `url` may not receive a token request under `policy` (message and hint), or `undefined`. */
export function tokenUrlRefusal(
  url: URL,
  policy: TokenEndpointPolicy,
): { message: string; hint: string } | undefined {
  if (url.protocol !== 'https:')
    return { message: 'must use https', hint: 'Token requests carry the client secret: https only' };
  if (url.username || url.password)
    return { message: 'must not contain a user name or password', hint: 'Remove the user@ part' };
  const host = normaliseHost(url.hostname);
  if (!policy.hosts.has(host) && !policy.origins.has(url.origin))
    return {
      message: `host ${host} is not on the token host allow-list`,
      hint: 'The server operator can add hosts with TOKEN_HOST_ALLOWLIST; the API cannot widen the list',
    };
  return undefined;
}

/**
 * Core's `checkUrl` for every token provider the server builds: each URL the provider contacts —
 * the configured endpoint, and the OpenID metadata, `token_endpoint` and discovery URLs an identity
 * provider names — passes the same rule as the configured token endpoint, so metadata pointing
 * elsewhere cannot carry the client credential past the allow-list (issue 13 §2).
 *
 * @throws SmtpOAuthError `TOKEN_ENDPOINT_NOT_ALLOWED` naming the host and TOKEN_HOST_ALLOWLIST
 */
export function tokenUrlCheck(policy: () => TokenEndpointPolicy): CheckUrl {
  return (url) => {
    const refusal = tokenUrlRefusal(url, policy());
    if (!refusal) return;
    const host = normaliseHost(url.hostname);
    throw new SmtpOAuthError(
      'TOKEN_ENDPOINT_NOT_ALLOWED',
      `Refusing a token request to ${url.protocol}//${url.host}: ${refusal.message}`,
      {
        hint: `${host} was named by the identity provider or configured as the token endpoint. ${refusal.hint}`,
        details: { host },
      },
    );
  };
}
