import { describe, expect, it } from 'vitest';
import { call, newTenant } from '../support/app.js';
import {
  appendTestEvents,
  closedPort,
  createEndpoint,
  listDeliveries,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

// testConfig compresses the schedule to 0, 200, 400 and 800 ms: four attempts.
describe('webhook retries', () => {
  const env = useWebhooksEnvironment();

  it('records four attempts, with growing gaps, when the receiver fails three times', async () => {
    const receiver = await startReceiver((_request, n) =>
      n <= 3 ? { status: 500, body: `failure ${n}` } : { status: 204 },
    );
    const tenant = await newTenant(env.app.sql);
    const endpoint = await createEndpoint(env.app, tenant.key, receiver.url);
    const [event] = await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    const delivery = await waitFor(
      async () => {
        const [found] = await listDeliveries(env.app, tenant.key, endpoint.id);
        return found?.status === 'succeeded' ? found : undefined;
      },
      10_000,
      'a successful delivery',
    );

    expect(delivery.event_id).toBe(event?.id);
    expect(delivery.attempt_count).toBe(4);
    expect(delivery.attempts.map((a) => [a.attempt, a.succeeded, a.status_code])).toEqual([
      [1, false, 500],
      [2, false, 500],
      [3, false, 500],
      [4, true, 204],
    ]);
    expect(delivery.attempts[0]?.response_body).toBe('failure 1');
    expect(receiver.requests).toHaveLength(4);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([event?.id]),
    );
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - (receiver.requests[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(170);
    // Lower bounds only: the schedule (200, 400, 800 ms, +-10% jitter) sets
    // the least wait, while a loaded machine can only add to it.
    expect(gaps[1]).toBeGreaterThanOrEqual(350);
    expect(gaps[2]).toBeGreaterThanOrEqual(700);
    await receiver.close();
  });

  it('fails a delivery to a receiver that stays down, keeps it, resends it by hand', async () => {
    const port = await closedPort();
    const tenant = await newTenant(env.app.sql);
    const endpoint = await createEndpoint(env.app, tenant.key, `http://127.0.0.1:${port}/hook`);
    const [event] = await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    const failed = await waitFor(
      async () => {
        const [found] = await listDeliveries(env.app, tenant.key, endpoint.id);
        return found?.status === 'failed' ? found : undefined;
      },
      10_000,
      'a failed delivery',
    );
    expect(failed.failure_reason).toBe('attempts_exhausted');
    expect(failed.attempts).toHaveLength(4);
    for (const attempt of failed.attempts) {
      expect(attempt.succeeded).toBe(false);
      expect(attempt.status_code).toBeNull();
      expect(attempt.error).toMatch(/ECONNREFUSED/);
    }

    // Still failed and listed a while later: nothing retries it on its own.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const kept = await listDeliveries(env.app, tenant.key, endpoint.id);
    expect(kept.map((d) => [d.id, d.status, d.attempt_count])).toEqual([[failed.id, 'failed', 4]]);

    const receiver = await startReceiver(() => ({ status: 200 }), port);
    const retried = await call<{ status: string }>(
      env.app,
      'POST',
      `/v1/webhook-endpoints/${endpoint.id}/deliveries/${failed.id}/retry`,
      { key: tenant.key },
    );
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('pending');

    const succeeded = await waitFor(
      async () => {
        const [found] = await listDeliveries(env.app, tenant.key, endpoint.id);
        return found?.status === 'succeeded' ? found : undefined;
      },
      10_000,
      'the manual retry',
    );
    expect(succeeded.attempts).toHaveLength(5);
    expect(succeeded.attempts[4]).toMatchObject({ attempt: 5, manual: true, succeeded: true });
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([event?.id]);
    await receiver.close();
  });
});
