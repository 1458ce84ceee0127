import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRedis } from '../../src/redis/connection.js';
import { deleteKeysMatching } from '../../src/redis/delete-keys.js';
import { dispatchOnce } from '../../src/webhooks/dispatcher.js';
import { DeliveryQueue } from '../../src/webhooks/queue.js';
import { newTenant, type TestApp } from '../support/app.js';
import { configEnv } from '../support/env.js';
import {
  appendTestEvents,
  createEndpoint,
  type Receiver,
  type RunningWebhooks,
  startIsolatedApp,
  startReceiver,
  startWebhooks,
  waitFor,
} from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface DeliveryState {
  eventId: string;
  status: string;
  attempts: number;
}

async function deliveryStates(app: TestApp, endpointId: string): Promise<DeliveryState[]> {
  return app.sql<DeliveryState[]>`
    select event_id, status, attempts from webhook_deliveries
    where endpoint_id = ${endpointId} order by event_id`;
}

/** Deletes every Redis key of one test prefix, and nothing else. */
async function flushPrefix(config: Config): Promise<number> {
  const redis = new Redis(config.REDIS_URL);
  try {
    return await deleteKeysMatching(redis, `${config.REDIS_PREFIX}:*`);
  } finally {
    redis.disconnect();
  }
}

function startChild(config: Config): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/webhooks.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...configEnv(config) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Every event id that reached the receiver. */
function receivedIds(receiver: Receiver): Set<string | undefined> {
  return new Set(receiver.requests.map((request) => request.headers['webhook-id']));
}

describe('the webhooks process killed mid-delivery', () => {
  let app: TestApp;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await app.close();
  });

  it('delivers every event after a restart, with the same webhook-id', async () => {
    app = await startIsolatedApp({ WEBHOOK_JOB_LOCK_MS: '2000', WEBHOOK_POLL_INTERVAL_MS: '200' });
    const held: (() => void)[] = [];
    const receiver = await startReceiver(
      () => new Promise((resolve) => held.push(() => resolve({ status: 200 }))),
    );
    const tenant = await newTenant(app.sql);
    const endpoint = await createEndpoint(app, tenant.key, receiver.url);
    const events = await appendTestEvents(app.sql, tenant.tenantId, 5);
    const eventIds = new Set(events.map((event) => event.id));

    const first = startChild(app.config);
    children.push(first.child);
    await waitFor(() => receiver.requests.length >= 5, 30_000, 'five requests in flight');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(receivedIds(receiver)).toEqual(eventIds);
    // Nothing was recorded: the attempts were in flight when the process died.
    const before = await deliveryStates(app, endpoint.id);
    expect(before.map((d) => [d.status, d.attempts])).toEqual(Array(5).fill(['pending', 0]));

    receiver.behave(() => ({ status: 200 }));
    for (const release of held) release();
    const beforeRestart = receiver.requests.length;

    const second = startChild(app.config);
    children.push(second.child);
    await waitFor(
      async () => (await deliveryStates(app, endpoint.id)).every((d) => d.status === 'succeeded'),
      30_000,
      'every delivery to succeed after the restart',
    );
    const resent = receiver.requests.slice(beforeRestart);
    expect(new Set(resent.map((request) => request.headers['webhook-id']))).toEqual(eventIds);
    for (const id of eventIds) expect(receiver.requestsFor(id).length).toBeGreaterThanOrEqual(2);

    // SIGTERM stops it cleanly.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await receiver.close();
  });
});

describe('Redis losing its data', () => {
  let app: TestApp | undefined;
  let webhooks: RunningWebhooks | undefined;

  afterEach(async () => {
    await webhooks?.stop();
    await app?.close();
    webhooks = undefined;
    app = undefined;
  });

  it('re-enqueues dispatched deliveries and dispatches the rest of the outbox', async () => {
    app = await startIsolatedApp();
    const receiver = await startReceiver();
    const tenant = await newTenant(app.sql);
    const endpoint = await createEndpoint(app, tenant.key, receiver.url);
    const dispatched = await appendTestEvents(app.sql, tenant.tenantId, 3);

    // Dispatch with no worker running: the jobs wait in Redis...
    const connection = createRedis(app.config);
    const queue = new DeliveryQueue(app.config, connection);
    const logger = createLogger(app.config, 'test');
    expect(await dispatchOnce({ config: app.config, sql: app.sql, queue, logger })).toBe(3);
    expect(await queue.queue.getWaitingCount()).toBe(3);
    await queue.close();
    connection.disconnect();
    // ...more events wait in the outbox, and then Redis loses everything.
    const undispatched = await appendTestEvents(app.sql, tenant.tenantId, 2);
    expect(await flushPrefix(app.config)).toBeGreaterThan(0);

    webhooks = await startWebhooks(app.config);
    const all = new Set([...dispatched, ...undispatched].map((event) => event.id));
    await waitFor(() => receivedIds(receiver).size === all.size, 15_000, 'all five events');
    expect(receivedIds(receiver)).toEqual(all);
    const current = app;
    await waitFor(
      async () =>
        (await deliveryStates(current, endpoint.id)).every((d) => d.status === 'succeeded'),
      5_000,
      'every delivery recorded',
    );
    // One delivery per event: nothing was dispatched twice.
    expect(await deliveryStates(current, endpoint.id)).toHaveLength(5);
    await receiver.close();
  });

  it('re-enqueues a retry whose delayed job was lost', async () => {
    app = await startIsolatedApp({ WEBHOOK_RETRY_SCHEDULE_MS: '0,2000' });
    const receiver = await startReceiver(() => ({ status: 500 }));
    const tenant = await newTenant(app.sql);
    const endpoint = await createEndpoint(app, tenant.key, receiver.url);
    const events = await appendTestEvents(app.sql, tenant.tenantId, 3);
    webhooks = await startWebhooks(app.config);

    const current = app;
    await waitFor(
      async () => (await deliveryStates(current, endpoint.id)).every((d) => d.attempts === 1),
      10_000,
      'a failed first attempt for every delivery',
    );
    const queue = webhooks.runtime.queue.queue;
    await waitFor(async () => (await queue.getDelayedCount()) === 3, 5_000, 'three delayed jobs');
    await flushPrefix(app.config);
    expect(await queue.getDelayedCount()).toBe(0);
    receiver.behave(() => ({ status: 200 }));

    await waitFor(
      async () =>
        (await deliveryStates(current, endpoint.id)).every((d) => d.status === 'succeeded'),
      15_000,
      'every retry to succeed',
    );
    const states = await deliveryStates(app, endpoint.id);
    expect(states.map((d) => d.attempts)).toEqual([2, 2, 2]);
    for (const event of events) expect(receiver.requestsFor(event.id)).toHaveLength(2);
    await receiver.close();
  });
});
