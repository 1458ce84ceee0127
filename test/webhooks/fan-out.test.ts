import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createRedis, type Redis } from '../../src/redis/connection.js';
import { dispatchOnce } from '../../src/webhooks/dispatcher.js';
import { DeliveryQueue } from '../../src/webhooks/queue.js';
import { newTenant, type TestApp } from '../support/app.js';
import { appendTestEvents, createEndpoint, startIsolatedApp } from './support.js';

let app: TestApp;
let connection: Redis;
let queue: DeliveryQueue;

beforeAll(async () => {
  app = await startIsolatedApp();
  connection = createRedis(app.config);
  queue = new DeliveryQueue(app.config, connection);
});
afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await app.close();
});

describe('the dispatcher', () => {
  it('fans a batch out to many endpoints, past what one statement may carry', async () => {
    // 200 events (a batch) to 70 endpoints are 14,000 deliveries: as one row
    // of parameters each, 70,000 parameters, more than a statement may carry.
    const crowded = await newTenant(app.sql, 'many endpoints');
    for (let n = 0; n < 70; n++) await createEndpoint(app, crowded.key, `http://127.0.0.1:9/${n}`);
    await appendTestEvents(app.sql, crowded.tenantId, 200);
    const other = await newTenant(app.sql, 'one endpoint');
    const endpoint = await createEndpoint(app, other.key, 'http://127.0.0.1:9/other');
    await appendTestEvents(app.sql, other.tenantId, 1);

    const logger = createLogger(app.config, 'test');
    const deps = { config: app.config, sql: app.sql, queue, logger };
    expect(await dispatchOnce(deps)).toBe(200);
    expect(await dispatchOnce(deps)).toBe(1);
    const [counts] = await app.sql<{ crowded: number; other: number; outbox: number }[]>`
      select
        (select count(*)::int from webhook_deliveries where tenant_id = ${crowded.tenantId})
          as crowded,
        (select count(*)::int from webhook_deliveries where endpoint_id = ${endpoint.id}) as other,
        (select count(*)::int from event_dispatch) as outbox`;
    expect(counts).toEqual({ crowded: 14_000, other: 1, outbox: 0 });
  });
});
