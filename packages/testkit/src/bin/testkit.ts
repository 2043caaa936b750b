#!/usr/bin/env node
/**
 * `testkit start [--json]`: runs the fake Microsoft 365 (token endpoint + Exchange-like SMTP server +
 * inspection API) until SIGINT/SIGTERM, its parent process exits, or its piped stdin closes. With
 * --json it prints exactly one JSON line once ready.
 */
import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSandbox } from '../sandbox.js';

const USAGE = `Usage: testkit start [options]

Starts a fake Microsoft Entra token endpoint and an Exchange Online-like SMTP server on 127.0.0.1,
with a tenant whose app registration, consent, service principal and mailbox are set up.

Options:
  --json               print one JSON line with endpoints, credentials and file paths, then run
  --token-port <n>     token endpoint port (default: a free port)
  --smtp-port <n>      SMTP port (default: a free port)
  --inspect-port <n>   inspection API port (default: a free port)
  --persona <name>     exchange (default) or google
  --no-limits          turn Exchange's per-mailbox limits off (bulk tests, benchmarks)
  --implicit-tls       SMTP over implicit TLS (port 465 style) instead of STARTTLS
  --permission-model <m>  mailbox (default: SMTP.SendAsApp + FullAccess) or rbac (RBAC for
                       Applications: a management scope on a group holding the mailbox)
  -h, --help           show this help
`;

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`testkit: --${name} must be a port number (0-65535), got '${value}'\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'token-port': { type: 'string' },
      'smtp-port': { type: 'string' },
      'inspect-port': { type: 'string' },
      persona: { type: 'string' },
      'no-limits': { type: 'boolean' },
      'implicit-tls': { type: 'boolean' },
      'permission-model': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'start') {
    process.stdout.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const persona = values.persona ?? 'exchange';
  if (persona !== 'exchange' && persona !== 'google') {
    process.stderr.write(`testkit: --persona must be 'exchange' or 'google', got '${persona}'\n`);
    process.exit(2);
  }
  const permissionModel = values['permission-model'] ?? 'mailbox';
  if (permissionModel !== 'mailbox' && permissionModel !== 'rbac') {
    process.stderr.write(
      `testkit: --permission-model must be 'mailbox' or 'rbac', got '${permissionModel}'\n`,
    );
    process.exit(2);
  }
  const tokenPort = port(values['token-port'], 'token-port');
  const smtpPort = port(values['smtp-port'], 'smtp-port');
  const inspectPort = port(values['inspect-port'], 'inspect-port');
  const sandbox = await startSandbox({
    persona,
    permissionModel,
    ...(values['no-limits'] && { limits: false as const }),
    ...(values['implicit-tls'] && { smtpMode: 'implicit-tls' as const }),
    ...(tokenPort !== undefined && { tokenPort }),
    ...(smtpPort !== undefined && { smtpPort }),
    ...(inspectPort !== undefined && { inspectPort }),
  });
  const { info } = sandbox;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    process.stdout.write(
      [
        'testkit: fake Microsoft 365 is running',
        `  token endpoint  ${info.tokenEndpoint}`,
        `  SMTP            ${info.smtp.host}:${info.smtp.port} (STARTTLS, XOAUTH2)`,
        `  mailbox         ${info.mailbox}`,
        `  client id       ${info.clientId}`,
        `  client secret   ${info.clientSecret}   (a sandbox secret, not a real one)`,
        `  CA certificate  ${info.caFile}`,
        `  inspect API     ${info.inspectUrl}/api/messages`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A test harness that dies (or is killed) must not leave the servers holding their ports. `npx`
  // re-parents its child when killed, so SIGTERM to the harness's direct child is not enough:
  // - the parent process goes away: this process is re-parented (its ppid changes);
  // - stdin is a pipe (Python's subprocess, Node's spawn) and the other end closes: end of input.
  // A terminal or /dev/null on stdin (a shell's `&`) is not watched: it never signals the parent.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('end', stop).on('error', stop);
    process.stdin.resume();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`testkit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
