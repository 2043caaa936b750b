import { type PublicCredential, type PublicEmailServerConfig, redactConfig } from '../config/redact.js';
import type { EmailServerConfig } from '../config/schema.js';
import { isSmtpOAuthError } from '../errors/smtp-oauth-error.js';
import { type CertificateInfo, describeCertificate, loadCertificateCredential } from './certificate.js';

/**
 * Like `redactConfig`, and for certificate/PFX credentials adds the certificate's public facts
 * (subject, thumbprints, validity, days left) — or the problem (wrong passphrase, key mismatch,
 * expired) — so an API can show them instead of the key (S3, S16). Never throws for a bad
 * credential; the problem is part of the view.
 */
export function redactConfigWithCertificate(
  config: EmailServerConfig,
  options: { now?: () => number } = {},
): PublicEmailServerConfig {
  const view = redactConfig(config);
  if (config.auth.type !== 'oauth2' || view.auth.type !== 'oauth2') return view;
  const credential = config.auth.credential;
  if (credential.kind === 'secret') return view;
  const now = options.now ?? Date.now;
  let detail: { certificate: CertificateInfo } | { problem: { code: string; message: string } };
  try {
    detail = { certificate: describeCertificate(loadCertificateCredential(credential, { now }), now()) };
  } catch (err) {
    detail = {
      problem: isSmtpOAuthError(err)
        ? { code: err.code, message: err.message }
        : { code: 'CREDENTIAL_INVALID', message: 'the certificate could not be read' },
    };
  }
  return {
    ...view,
    auth: { ...view.auth, credential: { ...view.auth.credential, ...detail } as PublicCredential },
  };
}
