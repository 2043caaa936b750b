/**
 * Generates docs/troubleshooting.md from the error catalog, so the page lists exactly the codes the
 * toolkit raises. `test/docs-troubleshooting.test.ts` fails when the committed page differs.
 *
 * Regenerate: pnpm --filter @org/core exec node --import tsx scripts/troubleshooting-doc.ts
 * (or, inside packages/core: node --import tsx scripts/troubleshooting-doc.ts — tsx is core's devDependency,
 * not installed at the repository root).
 */
import { writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DiagnosticStepId } from '../src/doctor/index.js';
import type { ErrorCatalogEntry, ErrorCode } from '../src/errors/index.js';
import { errorCatalog } from '../src/errors/index.js';

/** The command that rewrites the page; quoted in the page and in the drift test's failure message. */
export const REGENERATE_COMMAND =
  'pnpm --filter @org/core exec node --import tsx scripts/troubleshooting-doc.ts';

/** Where the page lives, resolved from this file so the script works from any working directory. */
export const TROUBLESHOOTING_PATH = fileURLToPath(
  new URL('../../../docs/troubleshooting.md', import.meta.url),
);

interface Group {
  title: string;
  intro: string;
  matches: (code: string) => boolean;
}

// Grouped by where in the chain the failure happens, in the order a send goes through them.
const GROUPS: readonly Group[] = [
  {
    title: 'Configuration and credentials',
    intro: 'Found before anything is contacted: the entry, the files it refers to, the certificate.',
    matches: (c) => c.startsWith('CONFIG_') || c.startsWith('CREDENTIAL_'),
  },
  {
    title: 'Token endpoint',
    intro:
      "Entra ID (or another OAuth2 server) refused to issue an access token. Where a title names an AADSTS number, it is the one at the start of Entra's error description.",
    matches: (c) => c.startsWith('TOKEN_'),
  },
  {
    title: 'TLS',
    intro:
      'The encrypted channel to the SMTP server (or to the token endpoint) could not be set up. Nothing secret was sent.',
    matches: (c) => c.startsWith('TLS_'),
  },
  {
    title: 'SMTP',
    intro:
      'The SMTP server refused a command. Where a title names a reply code, it is the one Exchange Online sends.',
    matches: (c) => c.startsWith('SMTP_'),
  },
  {
    title: 'Network',
    intro: 'The SMTP server or the token endpoint could not be reached.',
    matches: (c) => c.startsWith('NETWORK_'),
  },
  {
    title: 'Message',
    intro: 'The message was refused before it was sent; the mailer checks it before any network I/O.',
    matches: (c) => c.startsWith('MESSAGE_'),
  },
  {
    title: 'Using the mailer',
    intro: 'The mailer was used in a way it cannot serve; nothing was sent.',
    matches: (c) => c.startsWith('MAILER_'),
  },
];

const OTHER: Group = { title: 'Other', intro: 'Codes without a group yet.', matches: () => true };

/**
 * Where `smtp-oauth doctor` (core's `diagnose()`) shows each failure: the step ids of its report.
 * Codes without an entry are only raised while sending or loading.
 */
const DOCTOR_STEPS: Partial<Record<ErrorCode, readonly DiagnosticStepId[]>> = {
  CONFIG_INVALID: ['config'],
  CREDENTIAL_INVALID: ['config'],
  CREDENTIAL_EXPIRED: ['config', 'token'],
  TOKEN_INVALID_CLIENT_SECRET: ['token'],
  TOKEN_CLIENT_SECRET_EXPIRED: ['token'],
  TOKEN_APP_NOT_FOUND: ['token'],
  TOKEN_TENANT_NOT_FOUND: ['token'],
  TOKEN_INVALID_SCOPE: ['token'],
  TOKEN_SCOPE_NOT_VALID: ['token'],
  TOKEN_CERTIFICATE_NOT_REGISTERED: ['token'],
  TOKEN_ASSERTION_TIME_INVALID: ['token'],
  TOKEN_MISSING_CREDENTIAL: ['token'],
  TOKEN_RESOURCE_NOT_FOUND: ['token'],
  TOKEN_INVALID_CLIENT: ['token'],
  TOKEN_THROTTLED: ['token'],
  TOKEN_SERVICE_UNAVAILABLE: ['token'],
  TOKEN_ENDPOINT_REJECTED: ['token'],
  TOKEN_RESPONSE_INVALID: ['token'],
  TLS_REQUIRED: ['tls'],
  TLS_CERTIFICATE_INVALID: ['tls'],
  TLS_HANDSHAKE_FAILED: ['tls'],
  SMTP_AUTH_REJECTED: ['claims', 'auth'],
  SMTP_AUTH_DISABLED: ['auth'],
  SMTP_SECURITY_DEFAULTS: ['auth'],
  SMTP_BASIC_AUTH_DISABLED: ['ehlo', 'auth'],
  SMTP_AUTH_MECHANISM_UNSUPPORTED: ['ehlo', 'auth'],
  SMTP_NOT_AUTHENTICATED: ['mail'],
  SMTP_MAILBOX_LOGON_FAILED: ['message'],
  SMTP_SEND_AS_DENIED: ['mail', 'message'],
  SMTP_QUOTA_EXCEEDED: ['message'],
  SMTP_MAILBOX_FULL: ['message'],
  SMTP_REJECTED: ['mail', 'message'],
  SMTP_TRANSIENT: ['mail', 'message'],
  NETWORK_DNS: ['dns'],
  NETWORK_CONNECT: ['tcp'],
  NETWORK_TIMEOUT: ['tcp', 'token'],
};

/** Why the doctor does not show a code, for codes without steps. */
const NOT_IN_DOCTOR: Partial<Record<ErrorCode, string>> = {
  CONFIG_FILE_UNREADABLE:
    'no — it is raised while the configuration is loaded, before the first step; `smtp-oauth config validate` shows it.',
  SMTP_CONCURRENCY_LIMIT:
    'no — the doctor opens a single connection; this appears while sending, when several senders share the mailbox.',
};
const NOT_IN_DOCTOR_DEFAULT = 'no — the mailer raises it for a message, before connecting.';

/** Steps whose check only runs with a test recipient (`--send-test-to`). */
const NEEDS_TEST_MESSAGE: readonly DiagnosticStepId[] = ['message'];

// A PowerShell command in catalog prose: a cmdlet and its `-Parameter value` pairs, up to the first
// word that is neither (`, or …`, ` (the …)`, ` if …`). Values are one token or a quoted string.
const POWERSHELL =
  /\b(?:Add|Connect|Get|Import|Install|New|Remove|Set)-[A-Z][A-Za-z]+(?: -[A-Za-z]+(?: (?!-)(?:"[^"]*"|[^\s,;()]*[^\s,;().]))?)*/g;

// A config field path such as `tls.ca` or `limits.maxConnections`.
const CONFIG_FIELD = /\b(?:auth|limits|tls)\.[A-Za-z]+(?:\.[A-Za-z]+)*\b/g;

/**
 * Makes catalog prose read well as Markdown without touching existing `code spans`: PowerShell
 * commands, scope URLs and config field paths become code, and any other `<` is escaped so a `<placeholder>` is not
 * swallowed as an HTML tag.
 */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => {
      if (i % 2 === 1) return part;
      return part
        .replace(POWERSHELL, (command) => `\u0000${command}\u0000`)
        .split('\u0000')
        .map((piece, j) =>
          j % 2 === 1
            ? `\`${piece}\``
            : piece
                .replace(/&(?=#?\w+;)/g, '&amp;')
                .replace(/</g, '&lt;')
                .replace(/\bhttps:\/\/[^\s`]+\/\.default\b/g, (scope) => `\`${scope}\``)
                .replace(CONFIG_FIELD, (field) => `\`${field}\``),
        )
        .join('');
    })
    .join('');
}

const cell = (text: string) => prose(text).replace(/\|/g, '\\|');

const anchor = (code: string) => code.toLowerCase();

function doctorLine(code: ErrorCode): string {
  const steps = DOCTOR_STEPS[code];
  if (!steps || steps.length === 0)
    return `**Seen by the doctor:** ${NOT_IN_DOCTOR[code] ?? NOT_IN_DOCTOR_DEFAULT}`;
  const list = steps.map((s) => `\`${s}\``).join(steps.length === 2 ? ' and ' : ', ');
  const note = steps.some((s) => NEEDS_TEST_MESSAGE.includes(s))
    ? ' (the `message` step runs only with `--send-test-to`)'
    : '';
  return `**Seen by the doctor:** step${steps.length > 1 ? 's' : ''} ${list}${note}.`;
}

function retryLabel(entry: ErrorCatalogEntry): string {
  return entry.transient ? 'transient' : 'permanent';
}

function renderEntry(entry: ErrorCatalogEntry): string {
  return [
    `### ${entry.code}`,
    '',
    `**${prose(entry.title)}** — ${
      entry.transient
        ? '*transient*: retried automatically with backoff; it may pass without any change.'
        : '*permanent*: retrying will not help until something is changed.'
    }`,
    '',
    `**What it means.** ${prose(entry.meaning)}`,
    '',
    `**How to fix it.** ${prose(entry.fix)}`,
    '',
    doctorLine(entry.code),
    '',
  ].join('\n');
}

function intro(): string {
  return [
    '# Troubleshooting',
    '',
    `<!-- Generated from packages/core/src/errors/catalog.ts by packages/core/scripts/troubleshooting-doc.ts. Do not edit by hand: change the catalog, then run \`${REGENERATE_COMMAND}\`. -->`,
    '',
    'Every failure the toolkit reports carries a stable code. This page lists all of them: what each one',
    'means and what to change. The library throws `SmtpOAuthError` with `code`, `hint` (the fix, written',
    'with your own tenant, client id and mailbox), `transient` and `details` (the exact server reply, the',
    'AADSTS number, trace and correlation ids — never a secret or a token); the CLI prints the same code and',
    "hint, and the server's HTTP API returns them in its JSON error body.",
    '',
    '## Getting more evidence',
    '',
    'Before changing anything, let the doctor walk the chain the way an expert would:',
    '',
    '```sh',
    'smtp-oauth doctor',
    'smtp-oauth doctor --send-test-to you@contoso.com',
    '```',
    '',
    'It runs the steps `config` → `dns` → `tcp` → `tls` → `ehlo` → `token` → `claims` → `auth` → `mail` →',
    '`message`, shows the exact replies it saw as evidence, stops where the chain breaks, and prints the fix',
    'for that step with your values filled in (PowerShell commands, the admin-consent URL, portal links).',
    'Exchange checks the mailbox permission and SendAs only when a message is submitted, so those two are only',
    'confirmed with `--send-test-to`. Other sources of evidence:',
    '',
    '- `smtp-oauth token` fetches a token and shows its claims: `aud` must be the Exchange resource, `roles`',
    '  must contain `SMTP.SendAsApp`, `oid` is the Enterprise Application object id that `New-ServicePrincipal`',
    '  needs.',
    '- `smtp-oauth config validate` names every invalid field of the configuration.',
    '- `--json` on any command gives the full result (steps, evidence, codes) for a ticket or a script.',
    '- From code: `diagnose(config, { sendTestTo })` returns the same steps as the CLI.',
    '',
    'The step-by-step setup, with the failure each missed step causes, is in',
    '[microsoft-365-setup.md](microsoft-365-setup.md); every configuration field is in',
    '[configuration.md](configuration.md).',
    '',
    '**Transient or permanent.** A *transient* failure may pass on its own; the mailer retries it a few times',
    'with exponential backoff (honouring `Retry-After`). A *permanent* one needs a change in the setup or',
    'the message, and is never retried.',
    '',
  ].join('\n');
}

/**
 * Renders the troubleshooting page for a catalog. Pure: same catalog, same text.
 *
 * @example writeFileSync('docs/troubleshooting.md', renderTroubleshooting(errorCatalog))
 */
export function renderTroubleshooting(catalog: readonly ErrorCatalogEntry[]): string {
  const grouped = new Map<Group, ErrorCatalogEntry[]>();
  for (const entry of catalog) {
    const group = GROUPS.find((g) => g.matches(entry.code)) ?? OTHER;
    const list = grouped.get(group) ?? [];
    list.push(entry);
    grouped.set(group, list);
  }
  const groups = [...GROUPS, OTHER].filter((g) => grouped.has(g));

  const index = [
    '## All codes',
    '',
    '| Code | Title | Retry |',
    '| --- | --- | --- |',
    ...groups.flatMap((g) =>
      (grouped.get(g) ?? []).map(
        (e) => `| [\`${e.code}\`](#${anchor(e.code)}) | ${cell(e.title)} | ${retryLabel(e)} |`,
      ),
    ),
    '',
  ].join('\n');

  const sections = groups.map((g) =>
    [`## ${g.title}`, '', g.intro, '', ...(grouped.get(g) ?? []).map(renderEntry)].join('\n'),
  );

  return `${[intro(), index, ...sections].join('\n').trimEnd()}\n`;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  await writeFile(TROUBLESHOOTING_PATH, renderTroubleshooting(errorCatalog));
  console.log(`wrote ${TROUBLESHOOTING_PATH} (${errorCatalog.length} codes)`);
}
