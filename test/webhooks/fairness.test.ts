import { describe, expect, it } from 'vitest';
import { SendShares } from '../../src/webhooks/send-shares.js';
import { newTenant } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

describe('a tenant whose endpoints never answer', () => {
  // Four attempts at a time, each allowed 30 s: endpoints that hang could
  // hold every one of them for that long.
  const env = useWebhooksEnvironment({ WEBHOOK_CONCURRENCY: '4', WEBHOOK_TIMEOUT_MS: '30000' });

  it('holds only its share of the attempts in flight; other tenants are still served', async () => {
    const hanging = await startReceiver(() => new Promise(() => undefined));
    const healthy = await startReceiver();
    const stuck = await newTenant(env.app.sql, 'hanging endpoints');
    // Two endpoints, each with a backlog: together they would take every slot.
    await createEndpoint(env.app, stuck.key, `${hanging.url}/1`);
    await createEndpoint(env.app, stuck.key, `${hanging.url}/2`);
    await appendTestEvents(env.app.sql, stuck.tenantId, 30);
    await waitFor(() => hanging.requests.length > 0, 10_000, 'the hanging endpoints called');

    const other = await newTenant(env.app.sql, 'healthy endpoint');
    await createEndpoint(env.app, other.key, healthy.url);
    const events = await appendTestEvents(env.app.sql, other.tenantId, 3);
    // Well within the hanging requests' 30 s: the free slots took them.
    await waitFor(() => healthy.requests.length === 3, 10_000, 'the healthy endpoint served');
    expect(new Set(healthy.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(events.map((event) => event.id)),
    );
    expect(hanging.requests.length).toBe(2);
    await Promise.all([hanging.close(), healthy.close()]);
  }, 30_000);
});

describe('SendShares', () => {
  it('gives each tenant its share, and a freed slot to a waiter', async () => {
    const shares = new SendShares(1, 10_000, 50);
    const first = await shares.take('ten_a');
    const other = await shares.take('ten_b');
    expect('release' in first && 'release' in other).toBe(true);
    const waiting = shares.take('ten_a');
    if ('release' in first) first.release();
    const handed = await waiting;
    expect('release' in handed).toBe(true);
    if ('release' in handed) handed.release();
  });

  it('lets no more than half a share wait for a turn; the others are put off at once', async () => {
    const shares = new SendShares(2, 10_000, 200);
    const sending = [await shares.take('ten_a'), await shares.take('ten_a')];
    const waiting = shares.take('ten_a');
    const started = Date.now();
    const over = await shares.take('ten_a');
    expect(over).toEqual({ postponeMs: 1_000 });
    expect(Date.now() - started).toBeLessThan(150);
    for (const slot of sending) if ('release' in slot) slot.release();
    const turn = await waiting;
    expect('release' in turn).toBe(true);
    if ('release' in turn) turn.release();
  });

  it('puts an attempt off at once, as long as the oldest request has run, when slow', async () => {
    const shares = new SendShares(1, 10_000, 50);
    const held = await shares.take('ten_a');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // Timers and the wall clock may disagree by a millisecond: a margin.
    const answer = await shares.take('ten_a');
    expect('postponeMs' in answer && answer.postponeMs).toBeGreaterThanOrEqual(1_100);
    expect('postponeMs' in answer && answer.postponeMs).toBeLessThan(5_000);
    if ('release' in held) held.release();
    expect('release' in (await shares.take('ten_a'))).toBe(true);
  });
});
