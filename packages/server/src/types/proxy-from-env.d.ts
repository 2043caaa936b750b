// proxy-from-env 2.x ships no types: the one function this package calls.
declare module 'proxy-from-env' {
  /**
   * The proxy URL for `url` from `HTTPS_PROXY`/`https_proxy` (or `ALL_PROXY`), or '' when none is
   * set or `NO_PROXY` exempts the host. Reads `process.env`: call it from entry points only.
   */
  export function getProxyForUrl(url: string | URL): string;
}
