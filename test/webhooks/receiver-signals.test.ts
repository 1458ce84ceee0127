import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/webhooks/schedule.js';
import { call, newTenant, type TestApp } from '../support/app.js';
import {
  appendTestEvents,
  closedPort,
  createEndpoint,
  type EndpointAnswer,
  listDeliveries,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

interface EventAnswer {
  id: string;
  type: string;
  data: { id: string; enabled: boolean; disabled_reason: string | null; secret?: unknown };
}

async function disabledEvents(app: TestApp, key: string): Promise<EventAnswer[]> {
  const answer = await call<{ data: EventAnswer[] }>(
    app,
    'GET',
    '/v1/events?type=endpoint.disabled&limit=100',
    { key },
  );
  return answer.body.data;
}

describe('what receivers tell the sender', () => {
  const env = useWebhooksEnvironment();

  it('disables an endpoint that answers 410 and records endpoint.disabled', async () => {
    const receiver = await startReceiver(() => ({ status: 410 }));
    const tenant = await newTenant(env.app.sql);
    const endpoint = await createEndpoint(env.app, tenant.key, receiver.url);
    await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    const [delivery] = await waitFor(async () => {
      const found = await listDeliveries(env.app, tenant.key, endpoint.id);
      return found[0]?.status === 'failed' ? found : undefined;
    });
    expect(delivery?.failure_reason).toBe('endpoint_gone');
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual([410]);

    const read = await call<EndpointAnswer>(
      env.app,
      'GET',
      `/v1/webhook-endpoints/${endpoint.id}`,
      {
        key: tenant.key,
      },
    );
    expect(read.body).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    const [event] = await disabledEvents(env.app, tenant.key);
    expect(event?.data).toMatchObject({ id: endpoint.id, enabled: false, disabled_reason: 'gone' });
    expect(event?.data.secret).toBeUndefined();

    // A disabled endpoint receives nothing more.
    await appendTestEvents(env.app.sql, tenant.tenantId, 2);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });

  it('waits as long as Retry-After asks on 503 and 429', async () => {
    const receiver = await startReceiver((_request, n) => {
      if (n === 1) return { status: 503, headers: { 'retry-after': '1' } };
      if (n === 2) return { status: 429, headers: { 'retry-after': '2' } };
      return { status: 200 };
    });
    const tenant = await newTenant(env.app.sql);
    const endpoint = await createEndpoint(env.app, tenant.key, receiver.url);
    await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    await waitFor(
      async () =>
        (await listDeliveries(env.app, tenant.key, endpoint.id))[0]?.status === 'succeeded',
      10_000,
      'success',
    );
    const [first, second, third] = receiver.requests.map((r) => r.at);
    // The schedule alone would retry after about 200 ms, then 400 ms.
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(2_000);
    await receiver.close();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('an endpoint that keeps failing', () => {
  const env = useWebhooksEnvironment({ WEBHOOK_DISABLE_AFTER_MS: '500' });

  it('disables an endpoint whose deliveries all failed for WEBHOOK_DISABLE_AFTER_MS', async () => {
    const port = await closedPort();
    const tenant = await newTenant(env.app.sql);
    const endpoint = await createEndpoint(env.app, tenant.key, `http://127.0.0.1:${port}/hook`);
    await appendTestEvents(env.app.sql, tenant.tenantId, 1);

    const [event] = await waitFor(() => disabledEvents(env.app, tenant.key).then((e) => e[0] && e));
    expect(event?.data).toMatchObject({ id: endpoint.id, disabled_reason: 'failing' });
    const [delivery] = await listDeliveries(env.app, tenant.key, endpoint.id);
    expect(delivery?.status).toBe('failed');
    expect(delivery?.failure_reason).toBe('endpoint_disabled');
    // Attempts 0, 200 and 400 ms apart: the third is the first past 500 ms of failing.
    expect(delivery?.attempts.length).toBeGreaterThanOrEqual(3);

    // Enabling it again starts afresh.
    const enabled = await call<EndpointAnswer>(
      env.app,
      'PATCH',
      `/v1/webhook-endpoints/${endpoint.id}`,
      { key: tenant.key, body: { enabled: true } },
    );
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
  });
});
