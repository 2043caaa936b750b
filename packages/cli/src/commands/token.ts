import { environmentProxy, loadCore, loadEntry, readCa, UsageError, withConfigCa } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { withContext } from '../report.js';
import type { CliIo } from '../output.js';

const OPTIONS = {
  'show-token': { type: 'boolean', default: false },
} as const;

/** Claims worth showing, in this order; anything else is listed after them. */
const CLAIM_ORDER = [
  'aud',
  'roles',
  'tid',
  'appid',
  'azp',
  'oid',
  'sub',
  'appidacr',
  'azpacr',
  'idtyp',
  'iss',
  'ver',
  'iat',
  'nbf',
  'exp',
];
const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp']);

function formatClaim(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number')
    return `${new Date(value * 1000).toISOString()} (${value})`;
  if (Array.isArray(value)) return value.length ? value.join(', ') : '(empty)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export default function token(argv: string[], io: CliIo): Promise<number> {
  return withContext(argv, io, OPTIONS, async (ctx, values) => {
    const core = await loadCore(ctx);
    const entry = await loadEntry(ctx, core);
    const { config } = entry;
    const ca = withConfigCa(config, await readCa(ctx));
    if (config.auth.type !== 'oauth2')
      throw new UsageError(
        `entry "${config.name}" uses auth type ${config.auth.type}; there is no token to fetch`,
      );
    const proxy = environmentProxy(ctx);
    const provider = core.createTokenProvider(config, { ...(ca ? { ca } : {}), ...(proxy ? { proxy } : {}) });
    const t = await provider.getToken({ forceRefresh: true });
    // Core judges the token (tenant, permission model, opaque tokens); this command only prints it.
    const test = core.testAccessToken(t, config);
    const { inspection, ok } = test;
    const exitCode = ok ? ExitCode.Ok : ExitCode.Auth;
    const showToken = values['show-token'] === true;

    if (ctx.globals.json) {
      // Regression: --show-token printed a second JSON document; the token now joins the one
      // document, outside the redaction, and only on request.
      ctx.out.json(
        {
          ok,
          exitCode,
          tokenEndpoint: config.auth.tokenEndpoint,
          clientId: config.auth.clientId,
          scope: config.auth.scope,
          expiresAt: new Date(t.expiresAt).toISOString(),
          tokenType: t.tokenType,
          checks: inspection.findings,
          ...(inspection.header ? { header: inspection.header } : {}),
          ...(inspection.claims ? { claims: inspection.claims } : {}),
        },
        showToken ? { unredacted: { accessToken: t.accessToken } } : {},
      );
      return exitCode;
    }
    const { out } = ctx;
    const s = out.symbols;
    const minutes = Math.round(test.expiresInMs / 60_000);
    out.line(
      `${out.style('bold', 'Access token')} for ${config.auth.clientId} from ${config.auth.tokenEndpoint}`,
    );
    out.line(
      `  scope ${config.auth.scope}, expires ${new Date(t.expiresAt).toISOString()} (in ${minutes} min)`,
    );
    out.line();
    for (const f of inspection.findings) {
      out.line(`${f.ok ? (f.warning ? s.warn : s.ok) : s.fail} ${f.check}: ${f.message}`);
      if ((!f.ok || f.warning) && f.fix) out.line(`    ${out.style('cyan', 'fix')}: ${f.fix}`);
    }
    if (inspection.claims) {
      out.line();
      out.line(out.style('bold', 'Claims (decoded, not verified)'));
      const names = [
        ...CLAIM_ORDER.filter((n) => n in (inspection.claims ?? {})),
        ...Object.keys(inspection.claims).filter((n) => !CLAIM_ORDER.includes(n)),
      ];
      const width = Math.max(...names.map((n) => n.length));
      for (const n of names) out.line(`  ${n.padEnd(width)}  ${formatClaim(n, inspection.claims[n])}`);
    }
    if (showToken) {
      out.line();
      out.warn(`${s.warn} the raw access token follows; treat it like a password`);
      out.data(t.accessToken);
    } else out.note(out.style('dim', '\n(the raw token is not shown; add --show-token to print it)'));
    return exitCode;
  });
}
