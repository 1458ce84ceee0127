import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorLog } from '../lib/error-log.js';
import { AppError } from '../lib/errors.js';
import { allowedMethods } from './allowed-methods.js';
import { createMetrics } from './metrics.js';
import { requireApiKey } from './middleware/auth.js';
import { jsonBody } from './middleware/json-body.js';
import { NOT_A_PARAMETER } from './middleware/no-query.js';
import { requestContext } from './middleware/request-context.js';
import { textGuard } from './middleware/text-guard.js';
import { mountOperatorRoutes } from './operator-routes.js';
import { problemResponse, toAppError } from './problem.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerTransferRoutes } from './routes/transfers.js';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints.js';
import type { AppEnv, Deps } from './types.js';

interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  /** The names a strict object does not take, for `unrecognized_keys`. */
  keys?: string[];
}

interface ValidationResult {
  success: boolean;
  /** The part of the request validated: `json`, `query`, `param`, `header`. */
  target?: string;
  /** What was validated; for a query, a parameter given twice holds an array. */
  data?: unknown;
  error?: { issues: ValidationIssue[] };
}

/**
 * Zod failures of any part of a request become one 422 listing each field.
 * A name the part does not take is listed under its own name: an unknown
 * query parameter, or an unknown field of a body. A query parameter given
 * more than once is said to be, rather than to be of the wrong type.
 */
function validationHook(result: ValidationResult, c: Context<AppEnv>): Response | undefined {
  if (result.success) return undefined;
  const given = result.target === 'query' ? (result.data as Record<string, unknown>) : {};
  const errors = (result.error?.issues ?? []).flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      const message = result.target === 'query' ? NOT_A_PARAMETER : 'not a field';
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message }));
    }
    const [name] = at;
    if (at.length === 1 && name !== undefined && Array.isArray(given[name])) {
      return [{ field: name, message: 'given more than once' }];
    }
    return [{ field: at.join('.') || '(body)', message: issue.message }];
  });
  return problemResponse(
    c,
    new AppError('validation_error', 'the request has invalid fields', { errors }),
  );
}

/** The web process's HTTP application: one place wires every route. */
export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const observed = [...deps.queues.all(), deps.deliveries.queue];
  const queuesReady = () => deps.queues.connected && deps.deliveries.connected;
  const metrics = createMetrics(observed, queuesReady);

  app.use('*', requestContext(deps.log));
  if (deps.inFlight) app.use('*', deps.inFlight.middleware);
  app.use('*', metrics.middleware);
  // During an outage every request may fail with 503: its cause is logged a
  // few times, with a count, not once per request (each still has its line).
  const outage = errorLog(deps.log, {}, 'request unavailable');
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (appError.code === 'unavailable') outage.report(error);
    else if (appError.status >= 500) c.get('log').error({ err: error }, 'request error');
    return problemResponse(c, appError);
  });
  const allowed = allowedMethods(() => app.routes);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length === 0) {
      return problemResponse(c, new AppError('not_found', `no route ${c.req.path}`));
    }
    const list = methods.join(', ');
    const answer = problemResponse(
      c,
      new AppError('method_not_allowed', `${c.req.method} is not taken here; send ${list}`),
    );
    answer.headers.set('allow', list);
    return answer;
  });

  registerHealthRoutes(app, deps);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'fintech-core',
      version: '1',
      description: 'Money transfers with idempotent acceptance and a double-entry ledger.',
    },
    security: [{ apiKey: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));
  if (deps.config.ADMIN_PASSWORD) {
    mountOperatorRoutes(app, deps.config.ADMIN_PASSWORD, observed, metrics.registry, queuesReady);
  }

  app.use('/v1/*', requireApiKey(deps.sql, deps.apiKeys));
  app.use('/v1/*', textGuard);
  app.use('/v1/*', jsonBody(deps.config.MAX_BODY_BYTES));
  registerAccountRoutes(app, deps);
  registerTransferRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerWebhookEndpointRoutes(app, deps);
  return app;
}
