/**
 * The email-server editor, by concern: form state (`form.ts`), mapping to and from core's config
 * (`mapping.ts`), issues and their phrasing (`issues.ts`), screen labels of config paths (`fields.ts`),
 * credential files (`files.ts`) and the composable tying them together (`useServerEditor.ts`).
 */
export {
  type AuthType,
  applyPresetToForm,
  type ClientAuthMethod,
  type CredentialKind,
  type EditorForm,
  emptyForm,
  fillTokenEndpoint,
  isMicrosoftPreset,
  type PresetId,
  presetById,
  presetChoices,
  WRITE_ONLY_FIELDS,
} from './form.js';
export { fieldLabels, fieldLocation, labelConfigPaths, type ScreenField, screenFields } from './fields.js';
export { pemThumbprints, readPemFile, readPfxFile, splitPemBundle } from './files.js';
export { phraseIssue, validateForm } from './issues.js';
export {
  credentialIsStored,
  formFromServer,
  type KeptSecrets,
  presetOfEndpoint,
  type StoredSecrets,
  storedSecretsOf,
  toConfigInput,
} from './mapping.js';
export { type ServerEditor, useServerEditor } from './useServerEditor.js';
