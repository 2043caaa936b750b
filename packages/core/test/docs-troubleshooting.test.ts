import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  REGENERATE_COMMAND,
  renderTroubleshooting,
  TROUBLESHOOTING_PATH,
} from '../scripts/troubleshooting-doc.js';
import { diagnose } from '../src/doctor/index.js';
import { type ErrorCatalogEntry, errorCatalog, errorCodes } from '../src/errors/index.js';

describe('docs/troubleshooting.md', () => {
  it('is exactly what the generator renders from the error catalog', async () => {
    const committed = await readFile(TROUBLESHOOTING_PATH, 'utf8').catch(() => '(missing)');
    const fresh = renderTroubleshooting(errorCatalog);
    // toBe would print the whole page twice; the message says what to do instead.
    expect(
      committed === fresh,
      `docs/troubleshooting.md is out of date with packages/core/src/errors/catalog.ts. Regenerate it: ${REGENERATE_COMMAND}`,
    ).toBe(true);
  });

  it('has a section, an index row and the meaning and fix of every code in the catalog', () => {
    const page = renderTroubleshooting(errorCatalog);
    expect(errorCatalog.map((e) => e.code)).toEqual([...errorCodes]);
    for (const entry of errorCatalog) {
      expect(page).toContain(`\n### ${entry.code}\n`);
      expect(page).toContain(`| [\`${entry.code}\`](#${entry.code.toLowerCase()}) |`);
      expect(page).toContain(entry.transient ? '*transient*' : '*permanent*');
    }
    expect(page.match(/^### /gm)).toHaveLength(errorCatalog.length);
  });

  it('groups the codes by where they happen, in the order of a send', () => {
    const page = renderTroubleshooting(errorCatalog);
    const headings = page.match(/^## .+$/gm) ?? [];
    expect(headings).toEqual([
      '## Getting more evidence',
      '## All codes',
      '## Configuration and credentials',
      '## Token endpoint',
      '## TLS',
      '## SMTP',
      '## Network',
      '## Message',
      '## Using the mailer',
    ]);
    const section = (title: string) => page.split(`## ${title}\n`)[1]?.split(/\n## /)[0] ?? '';
    expect(section('Token endpoint')).toContain('### TOKEN_INVALID_CLIENT_SECRET');
    expect(section('SMTP')).toContain('### SMTP_AUTH_REJECTED');
    expect(section('Configuration and credentials')).toContain('### CREDENTIAL_EXPIRED');
  });

  it('renders any catalog, including codes of a group it does not know yet', () => {
    const catalog = [
      {
        code: 'FUTURE_THING',
        title: 'A | pipe',
        transient: true,
        meaning: 'Means <this>.',
        fix: 'Run Set-Thing -Identity "<mailbox>" -Enabled $true, then wait.',
      },
    ] as unknown as ErrorCatalogEntry[];
    const page = renderTroubleshooting(catalog);
    expect(page).toContain('## Other');
    expect(page).toContain('| A \\| pipe | transient |');
    expect(page).toContain('Means &lt;this>.');
    expect(page).toContain('Run `Set-Thing -Identity "<mailbox>" -Enabled $true`, then wait.');
    expect(renderTroubleshooting(catalog)).toBe(page);
  });

  it('names only diagnostic steps the doctor really has', async () => {
    // An empty entry fails the config step; every later step is reported as skipped, without I/O.
    const result = await diagnose({});
    const stepIds = result.steps.map((s) => s.id);
    expect(stepIds).toHaveLength(10);
    const page = renderTroubleshooting(errorCatalog);
    const named = new Set(
      [...page.matchAll(/\*\*Seen by the doctor:\*\* steps? ([^.]+)\./g)].flatMap((m) =>
        [...(m[1] ?? '').matchAll(/`([a-z]+)`/g)].map((x) => x[1]),
      ),
    );
    expect(named.size).toBeGreaterThan(5);
    for (const id of named) expect(stepIds).toContain(id);
    // The intro lists the steps in the doctor's order.
    expect(page.replace(/\s+/g, ' ')).toContain(stepIds.map((id) => `\`${id}\``).join(' → '));
  });
});
