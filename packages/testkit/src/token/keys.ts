/**
 * The token server's signing keys. Like Entra, each key is an RSA key with a self-signed
 * certificate; `kid` and `x5t` are both the base64url SHA-1 thumbprint of that certificate, and the
 * JWKS publishes `x5c` so verifiers can pin either the key or the certificate.
 */
import { X509Certificate } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  importPKCS8,
  importX509,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { createClientCertificate } from '../pki/index.js';

/** A public signing key as published in the JWKS. */
export interface IssuerJwk extends JWK {
  kty: 'RSA';
  use: 'sig';
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
}

interface SigningKey {
  kid: string;
  certificatePem: string;
  privateKey: CryptoKey;
  jwk: IssuerJwk;
}

/** The issuer keys of one token server. */
export interface IssuerKeys {
  /** The public JWKS (what `/{tenant}/discovery/v2.0/keys` serves). A fresh copy each call. */
  jwks(): JSONWebKeySet & { keys: IssuerJwk[] };
  /**
   * A jose key getter over the live JWKS, for `jwtVerify`. It follows rotation, so a verifier built
   * once keeps working after `rotate()`.
   */
  getKey: JWTVerifyGetKey;
  /** The key new tokens are signed with: `kid` (= `x5t`) and its certificate. */
  readonly current: { kid: string; certificatePem: string };
  /**
   * Adds a new signing key and signs with it from now on; the old keys stay published (Entra keeps
   * old keys in the JWKS for a while), unless `dropOld` is set.
   */
  rotate(options?: { dropOld?: boolean }): Promise<void>;
}

async function createSigningKey(): Promise<SigningKey> {
  const cert = createClientCertificate({ commonName: 'accounts.accesscontrol.windows.net' });
  const publicKey = await importX509(cert.certificatePem, 'RS256', { extractable: true });
  const { n, e } = (await exportJWK(publicKey)) as { n: string; e: string };
  const der = new X509Certificate(cert.certificatePem).raw.toString('base64');
  return {
    kid: cert.x5t,
    certificatePem: cert.certificatePem,
    privateKey: await importPKCS8(cert.privateKeyPem, 'RS256'),
    jwk: { kty: 'RSA', use: 'sig', kid: cert.x5t, x5t: cert.x5t, n, e, x5c: [der] },
  };
}

/** Internal: the keys plus the private half for signing. */
export interface IssuerKeyStore extends IssuerKeys {
  signer(): { kid: string; privateKey: CryptoKey };
}

export async function createIssuerKeys(): Promise<IssuerKeyStore> {
  let keys = [await createSigningKey()];
  // One local set per key generation: jose caches imported keys inside it, which keeps verification
  // cheap when an SMTP server checks thousands of tokens.
  let localSet = createLocalJWKSet({ keys: keys.map((k) => k.jwk) });
  const latest = () => keys[keys.length - 1] as SigningKey;
  return {
    jwks: () => ({ keys: keys.map((k) => ({ ...k.jwk, x5c: [...k.jwk.x5c] })) }),
    getKey: (header, token) => localSet(header, token),
    get current() {
      const k = latest();
      return { kid: k.kid, certificatePem: k.certificatePem };
    },
    async rotate(options = {}) {
      const next = await createSigningKey();
      keys = options.dropOld ? [next] : [...keys, next];
      localSet = createLocalJWKSet({ keys: keys.map((k) => k.jwk) });
    },
    signer() {
      const k = latest();
      return { kid: k.kid, privateKey: k.privateKey };
    },
  };
}
