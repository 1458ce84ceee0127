import { describe, expect, it } from 'vitest';
import { call, newTenant } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  listDeliveries,
  startReceiver,
  useWebhooksEnvironment,
  waitFor,
} from './support.js';

describe('tenant isolation of webhooks and events', () => {
  const env = useWebhooksEnvironment();

  it('answers 404 to another tenant for an endpoint, its deliveries and events', async () => {
    const receiver = await startReceiver();
    const owner = await newTenant(env.app.sql, 'owner');
    const other = await newTenant(env.app.sql, 'other');
    const endpoint = await createEndpoint(env.app, owner.key, receiver.url);
    const [event] = await appendTestEvents(env.app.sql, owner.tenantId, 1);
    const [delivery] = await waitFor(async () => {
      const found = await listDeliveries(env.app, owner.key, endpoint.id);
      return found[0]?.status === 'succeeded' ? found : undefined;
    });
    const base = `/v1/webhook-endpoints/${endpoint.id}`;

    const attempts: [string, string, unknown?][] = [
      ['GET', base],
      ['PATCH', base, { enabled: false }],
      ['PATCH', base, { url: 'http://127.0.0.1:1/stolen' }],
      ['DELETE', base],
      ['POST', `${base}/rotate-secret`],
      ['GET', `${base}/deliveries`],
      ['POST', `${base}/deliveries/${delivery?.id}/retry`],
      ['GET', `/v1/events/${event?.id}`],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await call<{ code: string }>(env.app, method, path, { key: other.key, body });
      expect([method, path, answer.status, answer.body.code]).toEqual([
        method,
        path,
        404,
        'not_found',
      ]);
    }

    const lists = await Promise.all([
      call<{ data: unknown[] }>(env.app, 'GET', '/v1/webhook-endpoints', { key: other.key }),
      call<{ data: unknown[] }>(env.app, 'GET', '/v1/events', { key: other.key }),
    ]);
    expect(lists.map((answer) => answer.body.data)).toEqual([[], []]);
    const cursor = await call(env.app, 'GET', `/v1/events?after=${event?.id}`, { key: other.key });
    expect(cursor.status).toBe(422);

    // Nothing changed for the owner, and nothing was sent again.
    const mine = await call<{ enabled: boolean; url: string; previous_secret_expires_at: null }>(
      env.app,
      'GET',
      base,
      { key: owner.key },
    );
    expect(mine.body).toMatchObject({
      enabled: true,
      url: receiver.url,
      previous_secret_expires_at: null,
    });
    expect(receiver.requests).toHaveLength(1);

    // The other tenant's own events never reach the owner's endpoint.
    await appendTestEvents(env.app.sql, other.tenantId, 2);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });
});
