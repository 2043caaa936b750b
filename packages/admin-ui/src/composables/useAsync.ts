import { type Ref, ref, shallowRef } from 'vue';
import { ApiError } from '../api/client.js';

/** The three states every screen shows: loading, error (with the server's hint), data. */
export interface AsyncState<T> {
  data: Ref<T | undefined>;
  error: Ref<ApiError | undefined>;
  loading: Ref<boolean>;
  /** Runs the call; concurrent runs resolve in order and only the last one updates the state. */
  run: () => Promise<T | undefined>;
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, {
    code: 'UNEXPECTED',
    message: error instanceof Error ? error.message : 'Something went wrong',
  });
}

export function useAsync<T>(call: () => Promise<T>, options: { immediate?: boolean } = {}): AsyncState<T> {
  const data = shallowRef<T>();
  const error = shallowRef<ApiError>();
  const loading = ref(false);
  let generation = 0;

  async function run(): Promise<T | undefined> {
    const mine = ++generation;
    loading.value = true;
    error.value = undefined;
    try {
      const result = await call();
      if (mine === generation) data.value = result;
      return result;
    } catch (e) {
      if (mine === generation) error.value = toApiError(e);
      return undefined;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  if (options.immediate !== false) void run();
  return { data, error, loading, run };
}
