import { describe, expect, it } from 'vitest';
import { publishSettled } from '../../src/redis/settled.js';
import { nextRetryDelayMs } from '../../src/webhooks/schedule.js';
import { newTenant } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

describe('the retry schedule', () => {
  const policy = { scheduleMs: [0, 1_000, 10_000], retryAfterMaxMs: 5_000 };

  it('follows the schedule within 10 % either way, then stops', () => {
    expect(nextRetryDelayMs(policy, 0, undefined, () => 0.99)).toBe(0);
    expect(nextRetryDelayMs(policy, 1, undefined, () => 0)).toBe(900);
    expect(nextRetryDelayMs(policy, 1, undefined, () => 1)).toBe(1_100);
    expect(nextRetryDelayMs(policy, 2, undefined, () => 0.5)).toBe(10_000);
    expect(nextRetryDelayMs(policy, 3, undefined)).toBeUndefined();
  });

  it('never retries before Retry-After, which is capped', () => {
    expect(nextRetryDelayMs(policy, 1, 3_000, () => 0.5)).toBe(3_000);
    expect(nextRetryDelayMs(policy, 1, 60_000, () => 0.5)).toBe(5_000);
    expect(nextRetryDelayMs(policy, 2, 3_000, () => 0.5)).toBe(10_000);
  });
});

describe('the dispatcher', () => {
  // Polling so rarely that only the settled signal can explain a prompt delivery.
  const env = useWebhooksEnvironment({ WEBHOOK_POLL_INTERVAL_MS: '60000' });

  it("wakes on the transfer worker's settled signal", async () => {
    const receiver = await startReceiver();
    const tenant = await newTenant(env.app.sql);
    await createEndpoint(env.app, tenant.key, receiver.url);
    // Let the first poll, made at start-up, pass.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [event] = await appendTestEvents(env.app.sql, tenant.tenantId, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(0);

    await publishSettled(env.app.deps.redis, env.app.config.REDIS_PREFIX, ['tr_any']);
    const request = await waitFor(() => receiver.requests[0], 3_000, 'a woken dispatch');
    expect(request.headers['webhook-id']).toBe(event?.id);
    await receiver.close();
  });

  it('does not send an endpoint the events that came before it', async () => {
    const receiver = await startReceiver();
    const tenant = await newTenant(env.app.sql);
    await appendTestEvents(env.app.sql, tenant.tenantId, 2);
    await createEndpoint(env.app, tenant.key, receiver.url);
    const [later] = await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    env.webhooks.runtime.dispatcher.wake();
    await waitFor(() => receiver.requests[0], 3_000, 'the later event');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([later?.id]);
    await receiver.close();
  });
});
