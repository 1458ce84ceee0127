import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../logger.js';
import type { AppEnv } from '../types.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Health routes, probed every few seconds. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * Gives every request an id (the client's X-Request-Id when it is sane), a
 * logger bound to it, and one log line when the answer is sent.
 */
export function requestContext(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const offered = c.req.header('x-request-id');
    const requestId = offered && SANE_REQUEST_ID.test(offered) ? offered : newId('req');
    const requestLog = log.child({ request_id: requestId });
    c.set('requestId', requestId);
    c.set('log', requestLog);

    await next();

    c.res.headers.set('x-request-id', requestId);
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      route: routePath(c),
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      tenant_id: c.var.caller?.tenantId,
      transfer_id: c.res.headers.get('x-transfer-id') ?? undefined,
    };
    if (PROBES.has(fields.route)) {
      // A load balancer's probes: a line each would drown the log, and a
      // probe answered 503 (Redis away) is the outage already logged.
      if (status >= 500) requestLog.warn(fields, 'probe failed');
      else requestLog.debug(fields, 'request');
    } else if (status === 503) requestLog.warn(fields, 'request failed: unavailable');
    else if (status >= 500) requestLog.error(fields, 'request failed');
    else requestLog.info(fields, 'request');
  };
}
