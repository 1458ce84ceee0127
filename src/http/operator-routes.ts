import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Queue } from 'bullmq';
import type { MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import type { Registry } from 'prom-client';
import { AppError } from '../lib/errors.js';
import { problemResponse } from './problem.js';
import type { AppEnv } from './types.js';

const DASHBOARD_PATH = '/admin/queues';

/**
 * Mounts what operators, not tenants, use: Prometheus metrics at /metrics
 * and the BullMQ dashboard at /admin/queues (every queue's jobs by state,
 * with retry and clean actions). Both sit behind HTTP basic auth (user
 * `admin`) and exist only when an admin password is configured.
 */
export function mountOperatorRoutes(
  app: OpenAPIHono<AppEnv>,
  password: string,
  queues: readonly Queue[],
  registry: Registry,
  queuesReady: () => boolean,
): void {
  const auth = basicAuth({ username: 'admin', password });
  app.use('/metrics', auth);
  app.get('/metrics', async (c) =>
    c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );

  const adapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
  });
  app.use(`${DASHBOARD_PATH}/*`, auth);
  app.use(DASHBOARD_PATH, auth);
  const unavailable = new AppError('unavailable', 'the queues are unavailable; try again', {
    retryable: true,
  });
  const needQueues: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!queuesReady()) return problemResponse(c, unavailable);
    await next();
  };
  app.use(`${DASHBOARD_PATH}/*`, needQueues);
  app.use(DASHBOARD_PATH, needQueues);
  app.route(DASHBOARD_PATH, adapter.registerPlugin());
}
