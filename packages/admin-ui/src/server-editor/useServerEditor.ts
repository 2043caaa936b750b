/**
 * The editor composable: reactive form, core-driven validation, preset filling, write-only
 * credentials. Kept free of DOM access so it runs under vitest in node.
 */
import { computed, reactive, ref } from 'vue';
import type { ApiIssue, EmailServer, EmailServerWrite } from '../api/client.js';
import { applyPresetToForm, type EditorForm, emptyForm, fillTokenEndpoint, type PresetId } from './form.js';
import { phraseIssue, validateForm } from './issues.js';
import { credentialIsStored, formFromServer, type StoredSecrets, storedSecretsOf } from './mapping.js';

/**
 * @param existing the stored entry when editing; its secrets are never in the form.
 */
export function useServerEditor(existing?: EmailServer) {
  const form = reactive<EditorForm>(existing ? formFromServer(existing) : emptyForm());
  const stored = ref<StoredSecrets>(storedSecretsOf(existing));
  const touched = reactive(new Set<string>());
  const submitted = ref(false);
  const serverIssues = ref<ApiIssue[]>([]);
  /** Replace mode for a stored credential: shows the inputs for a new one. */
  const replacing = ref(false);

  const validation = computed(() => validateForm(form, stored.value));
  const issues = computed(() => [...validation.value.issues, ...serverIssues.value]);
  const valid = computed(() => validation.value.issues.length === 0);
  // A destination change makes the stored credential unusable, so its inputs show again.
  const credentialStored = computed(
    () => credentialIsStored(stored.value, form.credentialKind) && validation.value.keep.credential,
  );

  /** The message for a field, once it was left or a save was tried; `path` is core's field path. */
  function errorFor(path: string): string | undefined {
    if (!submitted.value && !touched.has(path)) return undefined;
    const found = issues.value.find((i) => i.path === path);
    return found && phraseIssue(found.path, found.message, found.code);
  }

  /** A warning for a field (amber, never blocking), phrased with its label. */
  function warningFor(path: string): string | undefined {
    const found = validation.value.warnings.find((w) => w.path === path);
    return found && phraseIssue(found.path, found.message);
  }

  /** Issues no visible field shows (e.g. a path from the server the form does not know). */
  function unplacedIssues(visible: readonly string[]): ApiIssue[] {
    return issues.value.filter((i) => !visible.includes(i.path));
  }

  function touch(path: string): void {
    touched.add(path);
    serverIssues.value = serverIssues.value.filter((i) => i.path !== path);
  }

  function selectPreset(id: PresetId): void {
    applyPresetToForm(form, id);
  }

  function setTenant(value: string): void {
    form.tenant = value;
    fillTokenEndpoint(form);
  }

  function startReplace(): void {
    replacing.value = true;
  }

  function cancelReplace(): void {
    replacing.value = false;
    Object.assign(form, { secret: '', certificatePem: '', privateKeyPem: '', pfxBase64: '', passphrase: '' });
  }

  /** Marks every field as visited; returns the payload when core accepts the entry. */
  function prepareSubmit(): EmailServerWrite | undefined {
    submitted.value = true;
    serverIssues.value = [];
    return valid.value ? validation.value.payload : undefined;
  }

  /** Shows the server's field issues (e.g. a thumbprint that does not match the uploaded certificate). */
  function setServerIssues(list: ApiIssue[]): void {
    serverIssues.value = list;
    submitted.value = true;
  }

  /** After a save: the server's view becomes the stored state, typed secrets are dropped. */
  function saved(server: EmailServer): void {
    stored.value = storedSecretsOf(server);
    replacing.value = false;
    Object.assign(form, {
      secret: '',
      certificatePem: '',
      privateKeyPem: '',
      pfxBase64: '',
      passphrase: '',
      password: '',
    });
  }

  return {
    form,
    stored,
    replacing,
    submitted,
    issues,
    valid,
    warnings: computed(() => validation.value.warnings),
    credentialStored,
    errorFor,
    warningFor,
    unplacedIssues,
    touch,
    selectPreset,
    setTenant,
    startReplace,
    cancelReplace,
    prepareSubmit,
    setServerIssues,
    saved,
  };
}

export type ServerEditor = ReturnType<typeof useServerEditor>;
