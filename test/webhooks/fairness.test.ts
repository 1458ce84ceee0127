import { describe, expect, it } from 'vitest';
import { EndpointSlots } from '../../src/webhooks/delivery.js';
import { newTenant } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

describe('one endpoint that never answers', () => {
  // Four attempts at a time, each allowed 30 s: an endpoint that hangs could
  // hold every one of them for that long.
  const env = useWebhooksEnvironment({ WEBHOOK_CONCURRENCY: '4', WEBHOOK_TIMEOUT_MS: '30000' });

  it('holds only its share of the attempts in flight; other endpoints are still served', async () => {
    const hanging = await startReceiver(() => new Promise(() => undefined));
    const healthy = await startReceiver();
    const stuck = await newTenant(env.app.sql, 'hanging endpoint');
    await createEndpoint(env.app, stuck.key, hanging.url);
    await appendTestEvents(env.app.sql, stuck.tenantId, 8);
    await waitFor(() => hanging.requests.length > 0, 10_000, 'the hanging endpoint called');

    const other = await newTenant(env.app.sql, 'healthy endpoint');
    await createEndpoint(env.app, other.key, healthy.url);
    const [event] = await appendTestEvents(env.app.sql, other.tenantId, 1);
    // Within the hanging attempts' 30 s: a free attempt slot took it.
    await waitFor(() => healthy.requests.length === 1, 10_000, 'the healthy endpoint served');
    expect(healthy.requests[0]?.headers['webhook-id']).toBe(event?.id);
    expect(hanging.requests.length).toBeLessThan(4);
    await Promise.all([hanging.close(), healthy.close()]);
  }, 30_000);
});

describe('EndpointSlots', () => {
  it('lets each endpoint have its share, hands a freed slot to a waiter, and gives up in time', async () => {
    const slots = new EndpointSlots(1, 50);
    expect(await slots.take('whep_a')).toBe(true);
    expect(await slots.take('whep_b')).toBe(true);
    const waiter = slots.take('whep_a');
    slots.release('whep_a');
    expect(await waiter).toBe(true);
    // The slot went to the waiter: nobody else gets it before the wait runs out.
    expect(await slots.take('whep_a')).toBe(false);
    slots.release('whep_a');
    expect(await slots.take('whep_a')).toBe(true);
  });
});
