import { proxyFor, proxyLabel } from '../../internal/https-fetch.js';
import { tokenFailure } from '../findings.js';
import { defaultTokenProvider } from '../token-source.js';
import type { DiagnoseOptions, DiagnoseTokenProvider } from '../types.js';
import { errorText, inMinutes, iso, MIN_TOKEN_LIFETIME_MS, type Outcome, withTimeout } from '../util.js';
import { describeCredential } from './config.js';
import type { DiagnosisState } from './state.js';

/**
 * Step `token`: a fresh token from the entry's provider (or `options.tokenProvider`), by the route
 * it takes (direct or proxy); warns on a short lifetime. Keeps the token in `state.accessToken`.
 * Runs only for OAuth2 entries.
 */
export async function checkToken(state: DiagnosisState, options: DiagnoseOptions): Promise<Outcome> {
  const { config: c, fixValues: v, certificate, now } = state;
  const oauth = state.oauth;
  if (!oauth) throw new Error('the token step runs only for OAuth2 entries');
  // The leg the token takes: directly, or through a proxy (the entry's, else the environment's).
  const proxy = proxyFor(c.proxy?.url ?? options.proxy, oauth.tokenEndpoint);
  const route = proxy
    ? `through the proxy ${proxyLabel(proxy)} (HTTP CONNECT)`
    : 'directly (no proxy configured)';
  let provider: DiagnoseTokenProvider;
  try {
    provider = options.tokenProvider ?? defaultTokenProvider(c, options);
  } catch (err) {
    return { status: 'fail', evidence: [errorText(err)] };
  }
  const t0 = now();
  try {
    const token = await withTimeout(
      provider.getToken({ forceRefresh: true }),
      options.tokenTimeoutMs ?? 30_000,
      `Token request to ${oauth.tokenEndpoint}`,
    );
    state.accessToken = token.accessToken;
    const expiresAt = token.expiresAt instanceof Date ? token.expiresAt.getTime() : token.expiresAt;
    const lifetime = expiresAt - t0;
    const evidence = [
      `POST ${oauth.tokenEndpoint} (client_credentials, scope ${oauth.scope}, ${describeCredential(c)}) ${route}`,
      `access token received, expires at ${iso(expiresAt)} (in ${inMinutes(lifetime)})`,
    ];
    if (lifetime < MIN_TOKEN_LIFETIME_MS)
      return {
        status: 'warn',
        evidence,
        causes: [
          `The token lives only ${inMinutes(lifetime)}; the cache refreshes tokens 5 min before expiry, so short lifetimes cause a token request for almost every message.`,
        ],
        fix: {
          summary:
            'Check the token lifetime policy of the tenant (Entra issues about 60–90 min by default) and that this machine’s clock is correct.',
        },
      };
    return { status: 'ok', evidence };
  } catch (err) {
    const outcome = tokenFailure(err, v, certificate, (e) => {
      state.tokenError = e;
    });
    return {
      ...outcome,
      evidence: [...(outcome.evidence ?? []), `POST ${oauth.tokenEndpoint} ${route}`],
    };
  }
}
