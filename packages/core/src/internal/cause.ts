/**
 * Attaches an ES2022 `cause` to an error built by a pure mapping function that does not take one.
 * Non-enumerable, like the native one, so it stays out of JSON and structured logs.
 */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  if (cause !== undefined && (error as { cause?: unknown }).cause === undefined) {
    Object.defineProperty(error, 'cause', {
      value: cause,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  return error;
}
