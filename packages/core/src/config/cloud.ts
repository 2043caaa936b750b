/**
 * The national-cloud model of an entry: one Microsoft cloud (reference §6) read from the three
 * fields that name it — the token endpoint's host, the scope and the SMTP host. A field that is not
 * a Microsoft value (a private identity provider, the testkit on 127.0.0.1) says nothing; two
 * fields naming different clouds are a configuration error, because the token would be issued by
 * one cloud for another's Exchange and every request fails.
 */
import { expectObject, expectString } from '../internal/guard.js';
import { cloudOfLoginHost, type EntraCloud, entraClouds } from './microsoft.js';

const normalizeHost = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

const onSuffix = (host: string, suffixes: readonly string[]) =>
  suffixes.some((s) => host === s || host.endsWith(`.${s}`));

/** The cloud whose Exchange Online serves an SMTP host (smtp.office365.us → usGovernment). */
export function cloudOfSmtpHost(host: string): EntraCloud | undefined {
  expectString(host, 'host');
  const h = normalizeHost(host);
  return Object.values(entraClouds).find((c) => onSuffix(h, c.exchangeSuffixes))?.cloud;
}

/** The cloud of a scope's resource: Exchange Online or Graph of that cloud. */
export function cloudOfScope(scope: string): EntraCloud | undefined {
  let host: string;
  try {
    host = new URL(scope.trim()).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  for (const c of Object.values(entraClouds)) {
    if (onSuffix(host, c.exchangeSuffixes)) return c.cloud;
    if (new URL(c.graphResource).hostname === host) return c.cloud;
  }
  if (host === 'dod-graph.microsoft.us') return 'usGovernment';
  return undefined;
}

/** The cloud of a token endpoint URL (its login host). */
export function cloudOfTokenEndpoint(endpoint: string | URL): EntraCloud | undefined {
  try {
    return cloudOfLoginHost((typeof endpoint === 'string' ? new URL(endpoint) : endpoint).hostname);
  } catch {
    return undefined;
  }
}

/** The fields of an entry that name a cloud; any may be missing. */
export interface CloudFields {
  /** SMTP host (`host`). */
  host?: string | undefined;
  /** `auth.tokenEndpoint` (a parsed URL is not parsed again). */
  tokenEndpoint?: string | URL | undefined;
  /** `auth.scope`. */
  scope?: string | undefined;
}

/** A field that names a cloud other than the entry's. */
export interface CloudConflict {
  /** Config path, e.g. `['host']` or `['auth', 'scope']`. */
  path: string[];
  /** The cloud the field names. */
  cloud: EntraCloud;
  /** The field's value in the entry's cloud. */
  consistentValue: string;
}

/** What the cloud model reads from an entry. */
export interface EntryCloud {
  /**
   * The entry's cloud: what most of its fields name (ties go to the SMTP host, where the mail goes);
   * `undefined` when no field is a Microsoft value.
   */
  cloud: EntraCloud | undefined;
  /** The clouds each field names. */
  fields: { host?: EntraCloud; tokenEndpoint?: EntraCloud; scope?: EntraCloud };
  /** Fields that disagree with {@link EntryCloud.cloud}; empty when the entry is consistent. */
  conflicts: CloudConflict[];
}

const PATHS = { host: ['host'], tokenEndpoint: ['auth', 'tokenEndpoint'], scope: ['auth', 'scope'] } as const;

/** The value a field should have in `cloud`, keeping the tenant of a token endpoint. */
function consistentValue(field: keyof typeof PATHS, cloud: EntraCloud, fields: CloudFields): string {
  const info = entraClouds[cloud];
  if (field === 'host') return info.smtpHost;
  if (field === 'scope') return info.scope;
  try {
    const url = new URL(fields.tokenEndpoint ?? '');
    url.hostname = info.loginHost;
    return url.toString();
  } catch {
    return `https://${info.loginHost}/<TENANT_ID>/oauth2/v2.0/token`;
  }
}

/**
 * Reads the cloud of an entry from its SMTP host, token endpoint and scope.
 *
 * @example entryCloud({ host: 'smtp.office365.us', tokenEndpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/token', scope: 'https://outlook.office365.us/.default' })
 * // → { cloud: 'usGovernment', conflicts: [{ path: ['auth', 'tokenEndpoint'], cloud: 'global', consistentValue: 'https://login.microsoftonline.us/t/oauth2/v2.0/token' }], … }
 */
export function entryCloud(fields: CloudFields): EntryCloud {
  expectObject(fields, 'fields');
  const seen: EntryCloud['fields'] = {};
  const host = fields.host ? cloudOfSmtpHost(fields.host) : undefined;
  const tokenEndpoint = fields.tokenEndpoint ? cloudOfTokenEndpoint(fields.tokenEndpoint) : undefined;
  const scope = fields.scope ? cloudOfScope(fields.scope) : undefined;
  if (host) seen.host = host;
  if (tokenEndpoint) seen.tokenEndpoint = tokenEndpoint;
  if (scope) seen.scope = scope;
  const votes = new Map<EntraCloud, number>();
  for (const c of [host, tokenEndpoint, scope]) if (c) votes.set(c, (votes.get(c) ?? 0) + 1);
  if (votes.size === 0) return { cloud: undefined, fields: seen, conflicts: [] };
  const top = Math.max(...votes.values());
  const leaders = [...votes].filter(([, n]) => n === top).map(([c]) => c);
  const cloud =
    host && leaders.includes(host)
      ? host
      : ((tokenEndpoint && leaders.includes(tokenEndpoint) ? tokenEndpoint : leaders[0]) as EntraCloud);
  const conflicts: CloudConflict[] = [];
  for (const field of ['host', 'tokenEndpoint', 'scope'] as const) {
    const named = seen[field];
    if (named && named !== cloud)
      conflicts.push({
        path: [...PATHS[field]],
        cloud: named,
        consistentValue: consistentValue(field, cloud, fields),
      });
  }
  return { cloud, fields: seen, conflicts };
}

/**
 * The configuration issues of a cloud mix, one per field that disagrees: each names the field, the
 * cloud it belongs to, the entry's cloud and the consistent value.
 */
export function cloudIssues(fields: CloudFields): Array<{ path: string[]; message: string }> {
  expectObject(fields, 'fields');
  const { cloud, conflicts } = entryCloud(fields);
  if (!cloud) return [];
  const info = entraClouds[cloud];
  const name = (path: string[]) => path.join('.');
  return conflicts.map((c) => {
    const others = (['host', 'tokenEndpoint', 'scope'] as const)
      .map((f) => [...PATHS[f]])
      .filter((p) => name(p) !== name(c.path) && !conflicts.some((x) => name(x.path) === name(p)));
    const alt = entraClouds[c.cloud];
    const keys = { host: 'host', 'auth.tokenEndpoint': 'tokenEndpoint', 'auth.scope': 'scope' } as const;
    const moveAll = others
      .map((p) => `${name(p)} to ${consistentValue(keys[name(p) as keyof typeof keys], c.cloud, fields)}`)
      .join(' and ');
    return {
      path: c.path,
      message: `is in the ${alt.label} cloud, but ${others.map(name).join(' and ')} ${others.length > 1 ? 'are' : 'is'} in the ${info.label} cloud; one entry uses one cloud. Use ${c.consistentValue} (${info.label}) — or, for a ${alt.label} tenant, set ${moveAll}`,
    };
  });
}
