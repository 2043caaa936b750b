import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { decryptSecret, encryptSecret, type SecretContext } from '../secrets/envelope.js';
import type { KeyRing } from '../secrets/keyring.js';

/**
 * A new signing secret in the Standard Webhooks form `whsec_<base64 of 32 random bytes>` (the spec
 * asks for 24–64 bytes; receivers pass the whole string to their library's `Webhook`).
 * Source: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Where a key's webhook secret lives: bound into its envelope, so it cannot be moved to another key (S1). */
export const webhookSecretContext = (apiKeyId: string): SecretContext => ({
  table: 'api_keys',
  recordId: apiKeyId,
  field: 'webhook_secret',
});

export const sealWebhookSecret = (ring: KeyRing, apiKeyId: string, secret: string): string =>
  encryptSecret(ring, secret, webhookSecretContext(apiKeyId));

/** @throws ServerError `SECRET_DECRYPT_FAILED` */
export const openWebhookSecret = (ring: KeyRing, apiKeyId: string, envelope: string): string =>
  decryptSecret(ring, envelope, webhookSecretContext(apiKeyId));

/**
 * The three Standard Webhooks headers for one event: `webhook-id` (the event id, the same on every
 * retry), `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`), signed by the `standardwebhooks` reference library.
 */
export function signatureHeaders(
  secret: string,
  eventId: string,
  at: Date,
  body: string,
): Record<string, string> {
  // The library signs whole seconds; the header must carry the same second.
  const seconds = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': new Webhook(secret).sign(eventId, new Date(seconds * 1000), body),
  };
}
