import { ref } from 'vue';

/**
 * Copies text and reports it for a few seconds. Falls back to a hidden textarea where the
 * Clipboard API is unavailable (plain-http admin on a LAN address is not a secure context).
 */
export function useClipboard(resetMs = 2000) {
  const copied = ref(false);
  const failed = ref(false);
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function copy(text: string): Promise<boolean> {
    let ok = false;
    try {
      if (globalThis.navigator?.clipboard && globalThis.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok && typeof document !== 'undefined') {
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
    }
    copied.value = ok;
    failed.value = !ok;
    clearTimeout(timer);
    timer = setTimeout(() => {
      copied.value = false;
      failed.value = false;
    }, resetMs);
    return ok;
  }

  return { copy, copied, failed };
}
