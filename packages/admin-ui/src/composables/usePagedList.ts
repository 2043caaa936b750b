import { ref, shallowRef } from 'vue';
import type { ApiError, Page } from '../api/client.js';
import { toApiError } from './useAsync.js';

/** Newest-first lists with "Load more": each page continues before the last id seen. */
export function usePagedList<T extends { id: string }>(
  fetchPage: (before?: string) => Promise<Page<T>>,
  pageSize: number,
) {
  const items = shallowRef<T[]>([]);
  const loading = ref(false);
  const error = shallowRef<ApiError>();
  const hasMore = ref(false);

  async function load(reset: boolean): Promise<void> {
    loading.value = true;
    error.value = undefined;
    try {
      const before = reset ? undefined : items.value.at(-1)?.id;
      const page = await fetchPage(before);
      items.value = reset ? page.items : [...items.value, ...page.items];
      hasMore.value = page.next !== null && page.items.length >= pageSize;
    } catch (e) {
      error.value = toApiError(e);
    } finally {
      loading.value = false;
    }
  }

  void load(true);
  return { items, loading, error, hasMore, reload: () => load(true), more: () => load(false) };
}
