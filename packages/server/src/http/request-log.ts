import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

/**
 * Gives each request an id (echoed as `X-Request-Id`) and logs one line when it ends: method, path
 * without query string, status, duration. Never headers or bodies.
 */
export function requestLog(logger: Logger): RequestHandler {
  // The level is fixed for the logger's lifetime: with `info` off, no timer and no finish listener
  // per request (the id is still issued — error answers quote it).
  if (logger.enabled?.('info') === false) {
    return (_req, res, next) => {
      const requestId = randomUUID();
      res.locals.requestId = requestId;
      res.setHeader('X-Request-Id', requestId);
      next();
    };
  }
  return (req, res, next) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      logger.info('request', {
        requestId,
        method: req.method,
        path: req.path.slice(0, 200),
        status: res.statusCode,
        ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
      });
    });
    next();
  };
}
