import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { answersWithin } from '../../lib/answers-within.js';
import { stallGuard } from '../../lib/stall-guard.js';
import type { AppEnv, Deps } from '../types.js';

const CHECK_TIMEOUT_MS = 2_000;

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const Readiness = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({ postgres: z.boolean(), redis: z.boolean() }),
  })
  .openapi('Readiness');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: the process answers',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: Health } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary:
    'Readiness: PostgreSQL (both pools) and Redis answer, and settled transfers are subscribed to',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: Readiness } } },
  },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  // A probe that never settles is a stall like an acceptance's: it ends the
  // process, instead of queueing probe after probe on a dead connection. So
  // a web process whose reads pool is cut off, which serves nothing, ends
  // too, provided something asks it whether it is ready.
  const watch = stallGuard(deps.config.DATABASE_STALL_MS, deps.onStall);
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyz, async (c) => {
    // Both pools: the acceptances have connections of their own, and one cut
    // off without closing answers nothing while the other pool still does.
    const acceptSql = deps.acceptSql ?? deps.sql;
    const [reads, accepts, pinged] = await Promise.all([
      probe(() => watch(deps.sql`select 1`)),
      probe(() => watch(acceptSql`select 1`)),
      probe(() => deps.redis.ping()),
    ]);
    const redis = pinged && deps.waiters.listening;
    const checks = { postgres: reads && accepts, redis };
    if (checks.postgres && redis) return c.json({ status: 'ready' as const, checks }, 200);
    return c.json({ status: 'unavailable' as const, checks }, 503);
  });
}

function probe(check: () => Promise<unknown>): Promise<boolean> {
  return answersWithin(check, CHECK_TIMEOUT_MS);
}
