import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, discoverConfig, loadCore, loadEntry } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { withContext } from '../report.js';
import type { CliIo } from '../output.js';

const OPTIONS = {
  listen: { type: 'string' },
  host: { type: 'string' },
  devices: { type: 'string' },
  'data-dir': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  hostname: { type: 'string' },
  'allow-insecure-loopback': { type: 'boolean' },
  'new-password': { type: 'boolean' },
  'retry-first-delay': { type: 'string' },
  'drain-timeout': { type: 'string' },
} as const;

/** A positive number of milliseconds from an option, or undefined when not given. */
function milliseconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) <= 0)
    throw new UsageError(`--${name} must be a positive whole number of milliseconds`, `e.g. --${name} 30000`);
  return Number(value);
}

/** Resolves when the process gets SIGINT/SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * The relay is the server's code; the CLI does not depend on the server (express, a native SQLite
 * build) for everything else, so it is loaded on demand and named when missing.
 */
async function loadServer(): Promise<typeof import('@org/server')> {
  try {
    return await import('@org/server');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /@org\/server/.test(String((error as Error).message)))
      throw new UsageError(
        'smtp-oauth relay needs the @org/server package, which is not installed',
        'Install it next to the CLI: npm install @org/server',
      );
    throw error;
  }
}

/**
 * `smtp-oauth relay`: the server's SMTP relay in one process, for those who do not run the server.
 * The entry comes from the usual configuration (--config, SMTP_OAUTH_CONFIG, SMTP_OAUTH_*), the
 * devices from a JSON file; listener, policy, counters and the durable outbox (a SQLite file in the
 * state directory) are the server's code (@org/server): 250 only after the message is stored.
 */
export default function relay(argv: string[], io: CliIo): Promise<number> {
  return withContext(argv, io, OPTIONS, async (ctx, values) => {
    const server = await loadServer();
    if (values['new-password']) {
      const { password, hash } = server.generateDevicePassword();
      if (ctx.globals.json) ctx.out.json({ ok: true, password, passwordSha256: hash });
      else {
        ctx.out.line(`password        ${password}`);
        ctx.out.line(`passwordSha256  ${hash}`);
        ctx.out.line(
          ctx.out.style(
            'dim',
            'Give the password to the device; put only passwordSha256 in the devices file.',
          ),
        );
      }
      return ExitCode.Ok;
    }
    const devicesFile = values.devices as string | undefined;
    if (!devicesFile)
      throw new UsageError(
        'relay needs --devices FILE',
        'A JSON list: [{ "name": "printer", "username": "printer", "passwordSha256": "…" }] — make a password with `smtp-oauth relay --new-password`',
      );
    let devices: unknown;
    try {
      devices = JSON.parse(readFileSync(resolve(io.cwd, devicesFile), 'utf8'));
    } catch (error) {
      throw new UsageError(`cannot read the devices file ${devicesFile}: ${(error as Error).message}`);
    }
    const retryFirstDelayMs = milliseconds(
      'retry-first-delay',
      values['retry-first-delay'] as string | undefined,
    );
    const drainTimeoutMs = milliseconds('drain-timeout', values['drain-timeout'] as string | undefined);
    const core = await loadCore(ctx);
    const { config } = await loadEntry(ctx, core);
    // The state (the outbox's queue above all) belongs with the configuration it was accepted for:
    // next to the config file, wherever the relay is started from.
    const where = discoverConfig(ctx);
    const dataDir = values['data-dir']
      ? resolve(io.cwd, values['data-dir'] as string)
      : resolve(where?.kind === 'file' ? dirname(where.path) : io.cwd, '.smtp-oauth-relay');
    // The server's configuration errors (a bad port list, a bad device) are usage errors here (exit 2).
    const asUsage = (error: unknown): never => {
      const e = error as { code?: string; message?: string; hint?: string };
      if (e?.code === 'SETTINGS_INVALID' || e?.code === 'RELAY_CONFIG_INVALID')
        throw new UsageError(
          (e.message ?? '').replace(/RELAY_LISTEN/g, '--listen'),
          e.hint?.replace(/RELAY_LISTEN=/g, '--listen '),
        );
      throw error;
    };
    let settings: ReturnType<typeof server.relaySettings>;
    try {
      settings = server.relaySettings(
        {
          RELAY_LISTEN: (values.listen as string | undefined) ?? '587',
          RELAY_HOST: values.host as string | undefined,
          RELAY_TLS_CERT_FILE: values['tls-cert'] ? resolve(io.cwd, values['tls-cert'] as string) : undefined,
          RELAY_TLS_KEY_FILE: values['tls-key'] ? resolve(io.cwd, values['tls-key'] as string) : undefined,
          RELAY_HOSTNAME: values.hostname as string | undefined,
          RELAY_ALLOW_INSECURE_AUTH_ON_LOOPBACK: values['allow-insecure-loopback'] ? 'true' : undefined,
        },
        dataDir,
      );
    } catch (error) {
      asUsage(error);
    }
    if (!settings) throw new UsageError('--listen needs at least one port');
    const running = await server
      .startStandaloneRelay({
        emailServer: config,
        relay: settings,
        devices,
        dataDir,
        outbox: {
          ...(retryFirstDelayMs ? { schedule: { firstDelayMs: retryFirstDelayMs } } : {}),
          ...(drainTimeoutMs ? { drainTimeoutMs } : {}),
        },
      })
      .catch(asUsage);
    const status = running.relay.status();
    const queued = (await running.outbox.counts()).queued;
    if (ctx.globals.json) ctx.out.json({ ok: true, ...status, stateDir: dataDir, queued });
    else {
      for (const l of status.listeners)
        ctx.out.line(
          `SMTP relay on ${l.host}:${l.port} (${l.mode}), certificate SHA-256 ${status.certificate.fingerprintSha256}`,
        );
      ctx.out.line(`Outbox in ${dataDir}: ${queued} message(s) queued from before`);
    }
    await untilStopped();
    await running.close();
    return ExitCode.Ok;
  });
}
