import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Queue } from 'bullmq';
import { basicAuth } from 'hono/basic-auth';
import type { AppEnv } from './types.js';

const BASE_PATH = '/admin/queues';

/**
 * Mounts the BullMQ dashboard: every partition queue's jobs by state, with
 * retry and clean actions. It can change queues, so it is only mounted when
 * an admin password is configured, and it sits behind basic auth.
 */
export function mountQueueDashboard(
  app: OpenAPIHono<AppEnv>,
  queues: readonly Queue[],
  password: string,
): void {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BASE_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
  });
  app.use(`${BASE_PATH}/*`, basicAuth({ username: 'admin', password }));
  app.use(BASE_PATH, basicAuth({ username: 'admin', password }));
  app.route(BASE_PATH, adapter.registerPlugin());
}
