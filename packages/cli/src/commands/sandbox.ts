import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { withContext } from '../report.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../output.js';

const OPTIONS = {
  dir: { type: 'string' },
} as const;

const CONFIG_NAME = 'smtp-oauth.config.json';

/** Resolves when the process gets SIGINT/SIGTERM (or `signal` aborts, for embedding). */
function untilStopped(): Promise<string> {
  return new Promise((resolveStop) => {
    const stop = (signal: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolveStop(signal);
    };
    const onInt = stop('SIGINT');
    const onTerm = stop('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

export default function sandbox(argv: string[], io: CliIo): Promise<number> {
  return withContext(argv, io, OPTIONS, async (ctx, values) => {
    const dir = resolve(io.cwd, (values.dir as string | undefined) ?? 'smtp-oauth-sandbox');
    mkdirSync(dir, { recursive: true });
    const { startSandbox } = await import('@org/testkit');
    const box = await startSandbox({ dir });
    const { info } = box;
    // The certificate credential keeps the config file free of secrets: only file references.
    const config = {
      name: 'sandbox',
      host: info.smtp.host,
      port: info.smtp.port,
      security: 'starttls',
      user: info.mailbox,
      auth: {
        type: 'oauth2',
        provider: 'entra',
        tokenEndpoint: info.tokenEndpoint,
        clientId: info.clientId,
        scope: info.scope,
        credential: {
          kind: 'certificate',
          certificatePem: 'file:./client-certificate.pem',
          privateKeyPem: 'file:./client-private-key.pem',
          thumbprint: info.thumbprintSha1,
        },
      },
      tls: { ca: 'file:./ca.pem' },
    };
    const configFile = join(dir, CONFIG_NAME);
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    const rel = relative(io.cwd, configFile) || configFile;

    if (ctx.globals.json) {
      const { clientSecret: _secret, ...publicInfo } = info;
      // One line, like `testkit start --json`: a script reads the first line while the sandbox runs.
      ctx.out.json({ ok: true, configFile, ...publicInfo }, { line: true });
    } else {
      const { out } = ctx;
      out.line(out.style('bold', 'smtp-oauth sandbox — a local stand-in for Microsoft 365 is running'));
      out.line(`  token endpoint  ${info.tokenEndpoint}`);
      out.line(`  SMTP            ${info.smtp.host}:${info.smtp.port} (STARTTLS)`);
      out.line(`  mailbox         ${info.mailbox}`);
      out.line(`  client id       ${info.clientId} (certificate ${info.thumbprintSha1})`);
      out.line(`  inspect API     ${info.inspectUrl}  (messages, auth attempts, break a setup step)`);
      out.line(`  config          ${configFile}`);
      out.line(`  CA              ${info.caFile}`);
      out.line();
      out.line('Try, in another terminal:');
      out.line(`  smtp-oauth doctor --config ${rel}`);
      out.line(`  echo "Hello" | smtp-oauth send --config ${rel} --to someone@example.com --subject Hi`);
      out.line(`  smtp-oauth token --config ${rel}`);
      out.line(`  curl ${info.inspectUrl}/api/messages`);
      out.line();
      out.line(
        out.style(
          'dim',
          'Messages stay in memory and are never delivered. Ctrl-C stops the sandbox and removes its files.',
        ),
      );
    }
    await untilStopped();
    await box.close();
    rmSync(configFile, { force: true });
    return ExitCode.Ok;
  });
}
