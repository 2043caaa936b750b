import { parseConfig } from '../src/config/index.js';
import { createEntraTokenProvider } from '../src/tokens/entra.js';
import { createOAuth2TokenProvider } from '../src/tokens/oauth2.js';
import { createTokenProvider } from '../src/tokens/create.js';
import type { ClientCredential } from '../src/tokens/types.js';
import {
  type CredentialKind,
  describeTokenProviderContract,
  type ProviderInput,
} from './fixtures/token-provider-contract.js';

function credentialOf(input: ProviderInput, algorithm?: 'PS256' | 'RS256'): ClientCredential {
  if (input.secret !== undefined) return { kind: 'secret', secret: input.secret };
  if (!input.certificate) throw new Error('contract input without credential');
  return { kind: 'certificate', ...input.certificate, ...(algorithm ? { algorithm } : {}) };
}

const base = (input: ProviderInput) => ({
  tokenEndpoint: input.tokenEndpoint,
  clientId: input.clientId,
  scope: input.scope,
  ca: input.ca,
  now: input.now,
  retry: input.retry,
});

describeTokenProviderContract('entra (msal) · client secret', 'secret', (input) =>
  createEntraTokenProvider({ ...base(input), credential: credentialOf(input) }),
);
describeTokenProviderContract('entra (msal) · certificate PS256 x5t#S256', 'certificate', (input) =>
  createEntraTokenProvider({ ...base(input), credential: credentialOf(input, 'PS256') }),
);
describeTokenProviderContract('entra (msal) · certificate RS256 x5t', 'certificate', (input) =>
  createEntraTokenProvider({ ...base(input), credential: credentialOf(input, 'RS256') }),
);
describeTokenProviderContract('oauth2 · client_secret_post', 'secret', (input) =>
  createOAuth2TokenProvider({
    ...base(input),
    clientAuthMethod: 'client_secret_post',
    credential: credentialOf(input),
  }),
);
describeTokenProviderContract('oauth2 · client_secret_basic', 'secret', (input) =>
  createOAuth2TokenProvider({
    ...base(input),
    clientAuthMethod: 'client_secret_basic',
    credential: credentialOf(input),
  }),
);
describeTokenProviderContract('oauth2 · private_key_jwt PS256', 'certificate', (input) =>
  createOAuth2TokenProvider({
    ...base(input),
    clientAuthMethod: 'private_key_jwt',
    credential: credentialOf(input, 'PS256'),
  }),
);
describeTokenProviderContract('oauth2 · private_key_jwt RS256', 'certificate', (input) =>
  createOAuth2TokenProvider({
    ...base(input),
    clientAuthMethod: 'private_key_jwt',
    credential: credentialOf(input, 'RS256'),
  }),
);

// createTokenProvider(config): the config path users take, for both providers and credential kinds.
for (const provider of ['entra', 'generic'] as const) {
  for (const kind of ['secret', 'certificate'] as CredentialKind[]) {
    describeTokenProviderContract(`createTokenProvider(config) · ${provider} · ${kind}`, kind, (input) => {
      // Parse a valid entry, then put the case's values in: some cases feed inputs the schema
      // would refuse up front (a permission name as scope, a secret ID), which is what they test.
      const parsed = parseConfig({
        name: 'contract',
        host: 'smtp.example.com',
        user: 'sender@contoso.onmicrosoft.com',
        auth: {
          type: 'oauth2',
          provider,
          tokenEndpoint: input.tokenEndpoint,
          clientId: input.clientId,
          scope: 'https://outlook.office365.com/.default',
          credential:
            input.secret !== undefined
              ? { kind: 'secret', secret: 'placeholder-secret-value' }
              : { kind: 'certificate', ...input.certificate },
        },
        tls: { ca: input.ca },
      });
      if (!parsed.ok) throw new Error(`contract config invalid: ${JSON.stringify(parsed.issues)}`);
      const { config } = parsed;
      if (config.auth.type !== 'oauth2') throw new Error('unreachable');
      config.auth.scope = input.scope;
      if (config.auth.credential.kind === 'secret' && input.secret !== undefined)
        config.auth.credential.secret = input.secret;
      return createTokenProvider(config, { now: input.now, retry: input.retry, ca: input.ca });
    });
  }
}
