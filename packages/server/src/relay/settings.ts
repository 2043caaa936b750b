import { join, resolve } from 'node:path';
import { ServerError } from '../errors.js';
import type { RelayListenerOptions, RelayOptions } from './relay.js';

/**
 * The relay's settings from the environment (the entry point passes `process.env`):
 * - `RELAY_LISTEN`: `587,465` or `587:starttls,465:tls,25:starttls` (465 defaults to implicit TLS,
 *   every other port to STARTTLS). Unset or empty: no relay.
 * - `RELAY_HOST`: bind address. @default 0.0.0.0
 * - `RELAY_TLS_CERT_FILE` + `RELAY_TLS_KEY_FILE`: PEM files; without them a self-signed
 *   certificate is generated in `<DATA_DIR>/relay` on first start and kept.
 * - `RELAY_HOSTNAME`: the name in the greeting and the generated certificate. @default os.hostname()
 * - `RELAY_ALLOW_INSECURE_AUTH_ON_LOOPBACK`: AUTH without STARTTLS from 127.0.0.1/::1. @default false
 * - `RELAY_MAX_MESSAGE_BYTES`: @default 157286400 (150 MiB, Exchange Online's default)
 * @throws ServerError `SETTINGS_INVALID` naming the variable and the fix.
 */
export function relaySettings(
  env: Record<string, string | undefined>,
  dataDir: string,
): RelayOptions | undefined {
  const listen = (env.RELAY_LISTEN ?? '').trim();
  if (!listen) return undefined;
  const host = env.RELAY_HOST || '0.0.0.0';
  const listeners: RelayListenerOptions[] = listen.split(',').map((part) => {
    const m = /^\s*(\d{1,5})(?::(starttls|tls))?\s*$/i.exec(part);
    const port = Number(m?.[1]);
    if (!m || port > 65_535)
      throw new ServerError('SETTINGS_INVALID', `RELAY_LISTEN has an invalid entry "${part.slice(0, 30)}"`, {
        hint: 'e.g. RELAY_LISTEN=587,465 or RELAY_LISTEN=587:starttls,465:tls,25:starttls',
      });
    const mode = (m[2]?.toLowerCase() ?? (port === 465 ? 'tls' : 'starttls')) as RelayListenerOptions['mode'];
    return { port, host, mode };
  });
  const certFile = env.RELAY_TLS_CERT_FILE;
  const keyFile = env.RELAY_TLS_KEY_FILE;
  if (!!certFile !== !!keyFile)
    throw new ServerError('SETTINGS_INVALID', 'RELAY_TLS_CERT_FILE and RELAY_TLS_KEY_FILE go together', {
      hint: 'Set both (PEM certificate and key), or neither to have a certificate generated in DATA_DIR/relay',
    });
  const insecure = env.RELAY_ALLOW_INSECURE_AUTH_ON_LOOPBACK;
  if (insecure && !/^(1|true|yes|on|0|false|no|off)$/i.test(insecure))
    throw new ServerError('SETTINGS_INVALID', 'RELAY_ALLOW_INSECURE_AUTH_ON_LOOPBACK must be true or false');
  const maxRaw = env.RELAY_MAX_MESSAGE_BYTES;
  const max = maxRaw ? Number(maxRaw) : undefined;
  if (max !== undefined && (!/^\d{4,12}$/.test(maxRaw ?? '') || max < 1024))
    throw new ServerError('SETTINGS_INVALID', 'RELAY_MAX_MESSAGE_BYTES must be a number of bytes ≥ 1024', {
      hint: 'e.g. RELAY_MAX_MESSAGE_BYTES=36700160 (35 MiB); the default is 157286400 (150 MiB)',
    });
  return {
    listeners,
    tls:
      certFile && keyFile
        ? { certFile: resolve(certFile), keyFile: resolve(keyFile) }
        : { dir: join(dataDir, 'relay'), ...(env.RELAY_HOSTNAME ? { hostname: env.RELAY_HOSTNAME } : {}) },
    ...(env.RELAY_HOSTNAME ? { hostname: env.RELAY_HOSTNAME } : {}),
    allowInsecureAuthOnLoopback: insecure ? /^(1|true|yes|on)$/i.test(insecure) : false,
    ...(max !== undefined ? { maxMessageBytes: max } : {}),
  };
}
