import type { Queue } from 'bullmq';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppEnv } from './types.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

/**
 * Prometheus metrics of a web process: request counts and latencies by route,
 * and, read on every scrape while `queuesReady()`, the depth of each queue
 * (the transfer partitions and webhook deliveries) by state.
 */
export function createMetrics(queues: readonly Queue[], queuesReady: () => boolean) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each queue, by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      // With Redis away the depths are unknown: no series rather than stale
      // ones, and no scrape held until Redis is back.
      if (!queuesReady()) {
        this.reset();
        return;
      }
      await Promise.all(
        queues.map(async (queue) => {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) {
            this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        }),
      );
    },
  });

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const end = duration.startTimer();
    await next();
    const labels = { method: c.req.method, route: routePath(c), status: String(c.res.status) };
    end(labels);
    requests.inc(labels);
  };

  return { registry, middleware };
}
