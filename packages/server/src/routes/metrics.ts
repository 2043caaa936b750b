import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Governor } from '../governor/types.js';
import type { Outbox } from '../outbox/outbox.js';
import type { OutboxStatus } from '../outbox/types.js';
import type { OperationDoc } from './docs.js';

export const metricsDocs: OperationDoc[] = [
  {
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus metrics (text exposition format): outbox depth by state, oldest queued age, attempts by outcome and code, token requests, governor connection leases per mailbox, process metrics',
    tag: 'health',
    auth: 'none',
    responses: { '200': { description: 'text/plain; version=0.0.4' } },
  },
];

/**
 * The server's metrics, in a registry of its own (several servers in one process — tests — do not
 * share counters). Counters are fed by the outbox and the token caches; gauges are read from the
 * database at scrape time, so every instance reports the shared queue the same way.
 */
export function createServerMetrics(now: () => Date) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'smtp_oauth_' });
  let outbox: Outbox | undefined;
  let governor: Governor | undefined;

  const attempts = new Counter({
    name: 'smtp_oauth_outbox_attempts_total',
    help: 'Delivery attempts by this instance, by outcome (sent, transient, permanent, unknown, interrupted) and catalog code',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
  });
  const tokenRequests = new Counter({
    name: 'smtp_oauth_token_requests_total',
    help: "Requests to a token endpoint made by this instance's token caches, by outcome (ok or the catalog code)",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'smtp_oauth_outbox_messages',
    help: 'Messages in the outbox by state (all instances sharing the database)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      if (!outbox) return;
      const counts = await outbox.counts();
      for (const [state, n] of Object.entries(counts)) this.set({ state: state as OutboxStatus }, n);
    },
  });
  new Gauge({
    name: 'smtp_oauth_outbox_oldest_queued_age_seconds',
    help: 'Age of the oldest queued message (0 when none is queued)',
    registers: [registry],
    async collect() {
      if (!outbox) return;
      const oldest = await outbox.oldestQueued();
      this.set(oldest ? Math.max(0, (now().getTime() - Date.parse(oldest)) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'smtp_oauth_governor_connection_leases',
    help: 'SMTP connection leases held by this instance, per mailbox (host|user)',
    labelNames: ['mailbox'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [mailbox, n] of Object.entries(governor?.leases() ?? {})) this.set({ mailbox }, n);
    },
  });

  return {
    registry,
    /** Wires the sources read at scrape time. */
    attach(sources: { outbox: Outbox; governor: Governor | undefined }): void {
      outbox = sources.outbox;
      governor = sources.governor;
    },
    attempt(outcome: string, code: string | null): void {
      attempts.inc({ outcome, code: code ?? '' });
    },
    tokenRequest(outcome: string): void {
      tokenRequests.inc({ outcome });
    },
    /** `GET /metrics`. A database outage shows as a 503, like every other route. */
    handler(): RequestHandler {
      return async (_req, res, next) => {
        try {
          const text = await registry.metrics();
          res.setHeader('Content-Type', registry.contentType);
          res.setHeader('Cache-Control', 'no-store');
          res.send(text);
        } catch (error) {
          next(error);
        }
      };
    },
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
