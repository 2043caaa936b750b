export {
  type CertificateCredential,
  type CertificateInfo,
  describeCertificate,
  type LoadCertificateOptions,
  loadCertificateCredential,
  normalizeThumbprint,
  type PemCertificateInput,
  type PfxCertificateInput,
} from './certificate.js';
export { redactConfigWithCertificate } from './public-view.js';
