import type { Config } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { ApiKeyCache } from '../../src/http/api-key-cache.js';
import { createApp } from '../../src/http/app.js';
import { SettledWaiters } from '../../src/http/long-poll.js';
import type { Deps } from '../../src/http/types.js';
import { createLogger } from '../../src/logger.js';
import { TransferQueues } from '../../src/queue/transfer-queues.js';
import { createRedis } from '../../src/redis/connection.js';
import { createTenant } from '../../src/services/tenants.js';
import { createAcceptancePool } from '../../src/services/transfers.js';
import { DeliveryQueue } from '../../src/webhooks/queue.js';
import { testConfig } from './env.js';

export interface TestApp {
  config: Config;
  deps: Deps;
  sql: Sql;
  /** Every SQL statement the app's pool has sent, in order. */
  queries: string[];
  request(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The web application with real PostgreSQL and Redis, called in-process
 * through `app.request`. No worker runs: transfers stay pending unless a
 * test applies them. `adjust` may replace or add dependencies before the app
 * is built.
 */
export async function startTestApp(
  overrides: Record<string, string> = {},
  adjust: (deps: Deps) => Deps = (deps) => deps,
): Promise<TestApp> {
  const config = testConfig(overrides);
  const log = createLogger(config, 'test-web');
  const queries: string[] = [];
  const sql = createSql(config, { onQuery: (query) => queries.push(query) });
  const acceptSql = createAcceptancePool(config, { onQuery: (query) => queries.push(query) });
  const redis = createRedis(config);
  const queueConnection = createRedis(config, { blocking: true });
  const subscriber = createRedis(config, { blocking: true });
  const waiters = new SettledWaiters(subscriber, config.REDIS_PREFIX, log);
  await waiters.start();
  const queues = new TransferQueues(config, queueConnection);
  const deliveries = new DeliveryQueue(config, queueConnection);
  const apiKeys = new ApiKeyCache();
  const revocations = apiKeys.follow(sql, log);
  await revocations.ready;
  const deps = adjust({ config, sql, acceptSql, redis, queues, deliveries, waiters, log, apiKeys });
  const app = createApp(deps);

  return {
    config,
    deps,
    sql,
    queries,
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.key) headers.set('authorization', `Bearer ${init.key}`);
      if (typeof init.body === 'string' && !headers.has('content-type')) {
        headers.set('content-type', 'application/json');
      }
      return Promise.resolve(app.request(path, { ...init, headers }));
    },
    close: async () => {
      waiters.close();
      await Promise.all([queues.close(), deliveries.close()]);
      redis.disconnect();
      queueConnection.disconnect();
      subscriber.disconnect();
      revocations.stop();
      await Promise.all([sql.end(), acceptSql.end()]);
    },
  };
}

export interface TestTenant {
  tenantId: string;
  key: string;
}

export async function newTenant(sql: Sql, name = 'test tenant'): Promise<TestTenant> {
  const { tenant, secret } = await createTenant(sql, name);
  return { tenantId: tenant.id, key: secret };
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the API with JSON in and out. */
export async function call<T = Record<string, unknown>>(
  app: TestApp,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const init: RequestInit & { key?: string } = { method, headers: options.headers ?? {} };
  if (options.key !== undefined) init.key = options.key;
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  const response = await app.request(path, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as T,
  };
}

/** Sends a EUR transfer through the API under `idempotencyKey`; 1 unit unless told. */
export function postTransfer<T = Record<string, unknown>>(
  app: TestApp,
  key: string,
  idempotencyKey: string,
  transfer: { source: string; destination: string; amount?: number },
): Promise<ApiAnswer<T>> {
  return call<T>(app, 'POST', '/v1/transfers', {
    key,
    headers: { 'idempotency-key': idempotencyKey },
    body: {
      source_account_id: transfer.source,
      destination_account_id: transfer.destination,
      amount: transfer.amount ?? 1,
      currency: 'EUR',
    },
  });
}

/** Opens an account through the API and returns its id. */
export async function openAccount(
  app: TestApp,
  key: string,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const answer = await call<{ id: string }>(app, 'POST', '/v1/accounts', {
    key,
    body: { currency: 'EUR', ...fields },
  });
  if (answer.status !== 201) throw new Error(`account not opened: ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}
