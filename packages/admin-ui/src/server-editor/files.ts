/** Reading the credential files an admin selects: PEM texts, PFX bytes, thumbprint previews. */

/** Reads a PEM file; refuses binary files early with a readable reason. */
export async function readPemFile(file: Blob): Promise<string> {
  const text = await file.text();
  if (!text.includes('-----BEGIN ')) throw new Error('This file is not PEM text (it has no -----BEGIN line)');
  return text;
}

/** Reads a PFX/PKCS#12 file as base64, the form core's schema expects. */
export async function readPfxFile(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A PEM file holding both parts (e.g. `openssl req -x509 … -out both.pem`) split into certificate and key. */
export function splitPemBundle(text: string): { certificatePem?: string; privateKeyPem?: string } {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  const key =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      text,
    )?.[0];
  return { ...(cert ? { certificatePem: `${cert}\n` } : {}), ...(key ? { privateKeyPem: `${key}\n` } : {}) };
}

/**
 * SHA-1 and SHA-256 thumbprints of the first certificate in a PEM text (the hashes of its DER bytes,
 * upper-case hex as Entra shows them), so the admin can compare with the portal before saving. The
 * server computes them again and checks the key; this is a preview, not the check.
 */
export async function pemThumbprints(pem: string): Promise<{ sha1: string; sha256: string } | undefined> {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body || !globalThis.crypto?.subtle) return undefined;
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = Uint8Array.from(atob(body.replace(/\s/g, '')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  const hex = async (algorithm: 'SHA-1' | 'SHA-256') =>
    [...new Uint8Array(await crypto.subtle.digest(algorithm, der))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase();
  return { sha1: await hex('SHA-1'), sha256: await hex('SHA-256') };
}
