import { onBeforeUnmount, onMounted, ref, shallowRef } from 'vue';
import { createPoller } from '../lib/poller.js';

/**
 * Refreshes a page by itself every `intervalMs` while it is visible (see lib/poller.ts for why
 * polling): `paused` stops it (WCAG 2.2.2: content that updates by itself can be paused),
 * `updatedAt` says when the data last arrived.
 */
export function useLiveRefresh(refresh: (automatic: boolean) => Promise<unknown>, intervalMs: number) {
  const paused = ref(false);
  const updatedAt = shallowRef<Date>();
  /** `automatic`: the timer's refresh, which does not count as the admin's activity (session idle timeout). */
  const run = async (automatic = false) => {
    await refresh(automatic);
    updatedAt.value = new Date();
  };
  const poller = createPoller({
    run: () => run(true),
    intervalMs,
    isVisible: () => document.visibilityState === 'visible',
    onVisibilityChange(listener) {
      document.addEventListener('visibilitychange', listener);
      return () => document.removeEventListener('visibilitychange', listener);
    },
  });
  onMounted(() => poller.start());
  onBeforeUnmount(() => poller.stop());

  function setPaused(value: boolean) {
    paused.value = value;
    if (value) poller.stop();
    else {
      poller.start();
      void run();
    }
  }
  return { paused, updatedAt, setPaused, refreshNow: () => run() };
}
