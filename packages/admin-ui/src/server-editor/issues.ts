/**
 * Core's config issues as the editor shows them: phrased with the field's label, decided by the issue's
 * `code` (never by reading its message).
 */
import {
  type ConfigIssueCode,
  type ConfigWarning,
  configWarnings,
  type EmailServerConfig,
  planSecretUpdate,
  tenantProblem,
  validateUpdate,
} from '@org/core/config';
import type { ApiIssue } from '../api/client.js';
import { fieldLabels } from './fields.js';
import { type EditorForm, isMicrosoftPreset } from './form.js';
import { credentialIsStored, type KeptSecrets, type StoredSecrets, toConfigInput } from './mapping.js';

/** Core's messages are fragments ("must be an email address"); these start one that needs a subject. */
const FRAGMENT_START =
  /^(is|are|must|looks|has|does|do|contains|uses?|should|cannot|expires|expired|unknown)\b/;

/**
 * Core's messages name no field ("is required: the Application (client) ID"); under a field they read
 * better with its label in front. Messages that are already sentences are kept.
 *
 * @param code the issue's code; `REQUIRED` reads "<Label> is required" whatever core's wording.
 */
export function phraseIssue(path: string, message: string, code?: ConfigIssueCode): string {
  const label = fieldLabels[path];
  // An empty email field: "must be an email address: is empty" says less than "is required".
  if (label && code === 'REQUIRED' && !message.startsWith('is required')) return `${label} is required`;
  if (label && FRAGMENT_START.test(message)) return `${label} ${message}`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Validation of a form with core's schema: blocking issues, warnings, and the payload to save. */
export function validateForm(form: EditorForm, stored: StoredSecrets) {
  let keep: KeptSecrets = {
    credential: credentialIsStored(stored, form.credentialKind),
    password: stored.passwordSet,
  };
  // S3: a stored secret never follows a changed destination; core says which secrets must be entered again.
  const required = stored.config
    ? planSecretUpdate(toConfigInput(form, keep).input, stored.config, [
        ...(stored.passwordSet ? ['auth.password'] : []),
        ...(stored.clientSecretSet ? ['auth.credential.secret'] : []),
        ...(stored.credentialKind === 'certificate' ? ['auth.credential.privateKeyPem'] : []),
        ...(stored.credentialKind === 'pfx' ? ['auth.credential.pfxBase64'] : []),
      ]).required
    : [];
  if (required.length > 0) keep = { credential: false, password: false };
  // Core checks the payload as the server will read it: the values it keeps count as present, so
  // the editor needs no stand-in secrets of its own.
  const { input, kept } = toConfigInput(form, keep);
  const result = validateUpdate(input, kept);
  const issues: ApiIssue[] = result.ok ? [] : [...result.issues];
  if (required.length > 0) {
    const paths = required.map((r) => r.path as string);
    issues.splice(0, issues.length, ...required, ...issues.filter((i) => !paths.includes(i.path)));
  }
  if (form.authType === 'oauth2' && isMicrosoftPreset(form.preset)) {
    const empty = form.tenant.trim() === '';
    const problem = empty
      ? 'is required: the Directory (tenant) ID or a domain such as contoso.onmicrosoft.com'
      : tenantProblem(form.tenant);
    if (problem)
      issues.unshift({
        path: 'tenant',
        message: problem.replace(/^tenant /, ''),
        code: empty ? 'REQUIRED' : 'TENANT_INVALID',
      });
  }
  let warnings: ConfigWarning[] = result.ok ? result.warnings : [];
  // Warnings about the auth type (e.g. password on a Microsoft host) are useful before the rest is valid.
  if (!result.ok && typeof input.host === 'string' && input.host !== '') {
    try {
      warnings = configWarnings(input as unknown as EmailServerConfig).filter((w) => w.path === 'auth.type');
    } catch {
      warnings = [];
    }
  }
  return { issues, warnings, payload: input, keep };
}
