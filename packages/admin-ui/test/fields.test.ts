import { describe, expect, it } from 'vitest';
import { fieldLocation, labelConfigPaths, screenFields } from '../src/server-editor/fields.js';

describe('one map from config paths to the screen’s fields', () => {
  it('names fields as the screen shows them, with their section', () => {
    expect(fieldLocation('auth.scope')).toBe('Scope');
    expect(fieldLocation('tls.ca')).toBe('Advanced → Trusted CA certificate');
    expect(fieldLocation('servers.0.x')).toBe('servers.0.x');
  });

  it('replaces config paths in core’s fixes, longest path first, code spans included', () => {
    expect(labelConfigPaths('Set auth.scope to https://outlook.office365.com/.default (it is x)')).toBe(
      'Set “Scope” to https://outlook.office365.com/.default (it is x)',
    );
    expect(labelConfigPaths('for a private CA set tls.ca to its PEM certificate.')).toBe(
      'for a private CA set “Advanced → Trusted CA certificate” to its PEM certificate.',
    );
    expect(labelConfigPaths('configure `auth.credential.secret` again')).toBe(
      'configure “Client secret” again',
    );
    expect(labelConfigPaths('must not include the port; set `port` separately')).toBe(
      'must not include the port; set “Port” separately',
    );
    // Not a path: a URL or a longer dotted name that merely starts like one.
    expect(labelConfigPaths('see https://x/auth.scope.html and auth.scopes')).toBe(
      'see https://x/auth.scope.html and auth.scopes',
    );
  });

  it('every editor input the map names is a field of the form', async () => {
    const { emptyForm } = await import('../src/server-editor/form.js');
    const formKeys = new Set(Object.keys(emptyForm()));
    // Inputs that are not form keys are file pickers or radio groups with their own names.
    const extra = new Set(['certificateFile', 'privateKeyFile', 'pfxFile', 'authType', 'credentialKind']);
    for (const f of Object.values(screenFields))
      if (f.input) expect(formKeys.has(f.input) || extra.has(f.input), f.input).toBe(true);
  });
});
