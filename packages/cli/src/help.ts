/**
 * Help texts. Static strings only: `smtp-oauth --help` must not load core, msal or nodemailer.
 */

const EXIT_CODES = `Exit codes:
  0  success
  1  internal error (a bug; please report it)
  2  usage or configuration error, or an invalid or too large message — nothing was sent
  3  authentication/authorization error (token endpoint refused, 535, mailbox or SendAs permission)
  4  transient failure (network, throttling, 4xx) — retrying later may succeed
  5  permanent failure (5xx rejection, TLS, message refused) — retrying will not help
  6  outcome unknown: the message was sent but the server's answer never arrived — it may have
     been delivered; check before resending (a batch's retry file keeps its Message-ID)`;

const CONFIG_DISCOVERY = `Configuration (first found wins):
  --config FILE                  a JSON or YAML file (one entry, or { "servers": [...] } with --server NAME)
  SMTP_OAUTH_CONFIG=FILE         the same, from the environment
  ./smtp-oauth.config.json|yaml|yml
  SMTP_OAUTH_* variables         e.g. SMTP_OAUTH_TENANT, SMTP_OAUTH_CLIENT_ID, SMTP_OAUTH_USER,
                                 SMTP_OAUTH_CLIENT_SECRET (see \`smtp-oauth config --help\`)
  Secrets in files may be references: "env:NAME" or "file:PATH".`;

const GLOBAL_OPTIONS = `Global options:
  --config FILE      configuration file
  --server NAME      entry to use when the file holds several
  --ca FILE          extra trusted CA certificate (PEM) for the SMTP server and the token endpoint
  --json             machine-readable output on stdout (one JSON document)
  --no-color         no colours (also: NO_COLOR=1, or when output is not a terminal)
  -q, --quiet        only errors
  -h, --help         help for a command
  -v, --version      print the version`;

export const MAIN_HELP = `smtp-oauth — send mail through SMTP with OAuth2 (XOAUTH2), Microsoft 365 first

Usage: smtp-oauth <command> [options]

Commands:
  send       send a message, or a batch of messages from a CSV/JSONL file
  doctor     diagnose the setup step by step and print the fix for what is missing
  token      acquire an access token and check its claims (audience, SMTP.SendAsApp, tenant, expiry)
  config     init | validate | show | schema
  sandbox    run a local fake Microsoft 365 (token endpoint + SMTP) to try everything without a tenant
  relay      an SMTP relay for devices without OAuth2 (printers, scanners), delivering through the entry

Examples:
  smtp-oauth config init
  smtp-oauth doctor
  smtp-oauth send --to ops@contoso.com --subject "Disk full" --text report.txt
  smtp-oauth send --batch invoices.csv --subject "Invoice {{number}}" --html invoice.html

${GLOBAL_OPTIONS}

${CONFIG_DISCOVERY}

${EXIT_CODES}

Run \`smtp-oauth <command> --help\` for the options of a command.
`;

export const COMMAND_HELP: Record<string, string> = {
  send: `Usage: smtp-oauth send [options]

Send one message:
  --to ADDR            recipient (repeatable, or comma-separated)
  --cc ADDR            copy recipient (repeatable)
  --bcc ADDR           blind copy recipient (repeatable)
  --from ADDR          From address (default: the config's from, else the mailbox)
  --subject TEXT       subject
  --text FILE          plain-text body from FILE, or "-" for stdin
  --html FILE          HTML body from FILE, or "-" for stdin
  --attach FILE        attachment (repeatable)
  (with neither --text nor --html, the text body is read from stdin when it is piped)

Submit to a server's outbox instead (joins its per-mailbox limits across every sender):
  --server URL         an smtp-oauth server, e.g. https://smtp-oauth.example.com (a name that is
                       not an http(s) URL still picks an entry of the config file)
  --api-key KEY        the server's API key (or SMTP_OAUTH_API_KEY)
  --wait               wait up to 60 s for the delivery (exit 4 when still queued)

Send a batch (one message per row):
  --batch FILE         CSV with a header row, or JSONL (.jsonl/.ndjson) with one object per line.
                       Columns/keys to, cc, bcc, from, subject, text, html override the options;
                       every column can be used as {{column}} in the subject and bodies.
  --retry-file FILE    where failed rows go, in the same format (default: FILE.failed.csv|jsonl)

  A progress bar is shown on terminals. Sending honours the mailer's rate limits (Exchange Online:
  3 connections, 30 messages/minute per mailbox). A failure no later row can escape (token
  refused, 535, mailbox permission) stops the batch; the rows not attempted go to the retry file
  with error_code NOT_SENT. Exit code: 0 when every message was sent, else the class of the
  failures (3 auth, 5 permanent, 4 only transient).

${GLOBAL_OPTIONS}

${EXIT_CODES}
`,
  doctor: `Usage: smtp-oauth doctor [options]

Checks, in order: config → DNS → TCP → TLS → EHLO → token → claims → AUTH → MAIL/RCPT → test
message, with the exact server replies as evidence and, for what fails, the fix with your values.

  --send-test-to ADDR  also send a small test message (Exchange checks the mailbox permission and
                       SendAs only when a message is submitted)
  --from ADDR          From address to check (default: the config's from, else the mailbox)
  --timeout MS         per-step network timeout (default 15000)
  --verbose            show every evidence line of passing steps too

  Exit code: 0 all passed (warnings allowed); else by the first failed step: 2 config,
  4 dns/tcp, 5 tls/ehlo, 3 token/claims/auth/mail/message.

${GLOBAL_OPTIONS}
`,
  token: `Usage: smtp-oauth token [options]

Acquires an access token with the configured credential and shows its decoded claims with the
checks Exchange applies (audience, SMTP.SendAsApp role, tenant, expiry). The token itself is only
printed with --show-token.

  --show-token         also print the raw access token (treat it like a password)

${GLOBAL_OPTIONS}
`,
  config: `Usage: smtp-oauth config <init|migrate|validate|show|schema> [options]

  init       write a config file (interactive on a terminal; all values can be given as flags)
  migrate    move a password entry to OAuth2 (keeps host, port, mailbox), then run the doctor
  validate   load and validate the configuration; names each bad field and its fix
  show       print the configuration with secrets redacted
  schema     print the JSON Schema of config files (for editor completion)

config init options:
  --preset NAME        microsoft365 (default), microsoft365Gcc, microsoft365China, microsoft365Hve, generic
  --tenant ID          Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com
  --client-id ID       Application (client) ID
  --mailbox ADDR       the mailbox that sends (SMTP user)
  --from ADDR          default From address (default: the mailbox)
  --credential KIND    secret (default), certificate or pfx
  --secret-env NAME    variable the client secret is read from (default SMTP_OAUTH_CLIENT_SECRET)
  --certificate FILE   certificate PEM (credential certificate), stored as a file: reference;
                       the entry names it by its SHA-256 thumbprint (MSAL's x5t#S256)
  --private-key FILE   private key PEM (credential certificate), stored as a file: reference
  --pfx FILE           PKCS#12 file (credential pfx), stored as a file: reference
  --host HOST --port N --token-endpoint URL --scope SCOPE    for the generic preset or to override
  --permission-model M mailbox (default) or rbac: how Exchange authorizes the app (RBAC for Applications)
  --name NAME          entry name (default "default")
  --output FILE        where to write (default ./smtp-oauth.config.json; .yaml/.yml writes YAML)
  --inline-secrets     write the secret value (from the --secret-env variable) into the file
  --force              overwrite an existing file
  -y, --yes            never prompt; fail when a required value is missing

config migrate options (the entry: --config FILE, and --server NAME when it holds several):
  --tenant ID --client-id ID    as for init (--token-endpoint URL instead of --tenant)
  --credential KIND --secret-env NAME --certificate FILE --private-key FILE --pfx FILE
  --permission-model M mailbox (default: SMTP.SendAsApp + FullAccess) or rbac (RBAC for Applications)
  --output FILE        write there instead of rewriting the config file
  --send-test-to ADDR  the doctor also sends a test message
  --no-doctor          do not run the doctor afterwards
  -y, --yes            never prompt

Environment variables read when no file is found:
  SMTP_OAUTH_TENANT, SMTP_OAUTH_CLIENT_ID, SMTP_OAUTH_USER, SMTP_OAUTH_FROM, SMTP_OAUTH_HOST,
  SMTP_OAUTH_PORT, SMTP_OAUTH_SECURITY, SMTP_OAUTH_CLOUD, SMTP_OAUTH_TOKEN_ENDPOINT, SMTP_OAUTH_SCOPE,
  SMTP_OAUTH_CLIENT_SECRET, SMTP_OAUTH_CERTIFICATE, SMTP_OAUTH_PRIVATE_KEY, SMTP_OAUTH_PFX,
  SMTP_OAUTH_PFX_PASSPHRASE, SMTP_OAUTH_THUMBPRINT, SMTP_OAUTH_TLS_CA, …

${GLOBAL_OPTIONS}
`,
  sandbox: `Usage: smtp-oauth sandbox [options]

Starts a local stand-in for Microsoft 365 — an Entra-like token endpoint and an Exchange-like SMTP
server with a ready tenant, app, secret, consent, service principal and mailbox — writes a ready
config file and the CA certificate, and runs until Ctrl-C. Messages are kept in memory, never
delivered.

  --dir DIR            where to write smtp-oauth.config.json and ca.pem (default ./smtp-oauth-sandbox)

${GLOBAL_OPTIONS}
`,
  relay: `Usage: smtp-oauth relay --devices FILE [options]
       smtp-oauth relay --new-password

Runs the server's SMTP relay in one process: devices that only speak SMTP with a password send to
it, and it delivers through the configured entry with OAuth2 (the MIME passed through unchanged).
Answers 250 once the message is stored in its outbox (a SQLite file in the state directory);
failed deliveries are retried (first after 30 s, growing to hourly, for 24 h), and what is queued
at a stop or crash is delivered by the next start. Runs until Ctrl-C / SIGTERM.

  --devices FILE           JSON list of devices: name, username, passwordSha256, and optionally
                           allowedIps, allowedSenders, fromPolicy (enforce|rewrite), maxRecipientsPerMessage,
                           maxRecipientsPerDay, maxMessageBytes
  --listen PORTS           e.g. 587,465 or 2525:starttls (default 587; 465 is implicit TLS)
  --host ADDRESS           bind address (default 0.0.0.0)
  --tls-cert FILE          PEM certificate and --tls-key FILE; without them one is generated in the data dir
  --data-dir DIR           state directory: the outbox, counters, login throttle and the generated
                           certificate (default .smtp-oauth-relay next to the config file)
  --retry-first-delay MS   first retry after a temporary failure (default 30000, then doubling)
  --drain-timeout MS       on stop, sends in flight get this long to finish (default 10000)
  --allow-insecure-loopback  AUTH without STARTTLS from 127.0.0.1/::1
  --new-password           print a new device password and the passwordSha256 for the devices file

${GLOBAL_OPTIONS}
`,
};
