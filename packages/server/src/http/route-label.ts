import type { Request } from 'express';

/** `METHOD /path` for audit records: no query string (it may carry input), bounded length. */
export function routeLabel(req: Request): string {
  const path = (req.originalUrl.split('?')[0] ?? '').replace(/(.)\/+$/, '$1');
  return `${req.method} ${path}`.slice(0, 200);
}
