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

interface EndpointBody {
  id: string;
  object: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  deleted: boolean;
  secret?: string;
}

describe('webhook endpoints API', () => {
  const env = useWebhooksEnvironment();

  /** Registers an endpoint as a client would, with the body and headers given. */
  const postEndpoint = (key: string, body: unknown, headers: Record<string, string>) =>
    call<EndpointBody>(env.app, 'POST', '/v1/webhook-endpoints', { key, body, headers });

  it('shows the secret only when it is issued, never on a replay or a read', async () => {
    const tenant = await newTenant(env.app.sql);
    const body = { url: 'http://127.0.0.1:9/hook', event_types: ['transfer.posted'] };
    const headers = { 'idempotency-key': 'create-endpoint-1' };
    const created = await postEndpoint(tenant.key, body, headers);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'webhook_endpoint',
      url: body.url,
      event_types: ['transfer.posted'],
      enabled: true,
      description: null,
    });
    expect(created.body.secret).toMatch(/^whsec_/);

    const replay = await postEndpoint(tenant.key, body, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(created.body.id);
    expect(replay.body.secret).toBeUndefined();

    const reused = await call(env.app, 'POST', '/v1/webhook-endpoints', {
      key: tenant.key,
      body: { ...body, description: 'other' },
      headers,
    });
    expect(reused.status).toBe(422);

    const read = await call<EndpointBody>(
      env.app,
      'GET',
      `/v1/webhook-endpoints/${created.body.id}`,
      {
        key: tenant.key,
      },
    );
    expect(read.body.secret).toBeUndefined();
    const list = await call<{ data: EndpointBody[] }>(env.app, 'GET', '/v1/webhook-endpoints', {
      key: tenant.key,
    });
    expect(list.body.data.map((e) => [e.id, e.secret])).toEqual([[created.body.id, undefined]]);

    const path = `/v1/webhook-endpoints/${created.body.id}/rotate-secret`;
    const rotateHeaders = { 'idempotency-key': 'rotate-1' };
    const rotated = await call<EndpointBody>(env.app, 'POST', path, {
      key: tenant.key,
      headers: rotateHeaders,
    });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const again = await call<EndpointBody>(env.app, 'POST', path, {
      key: tenant.key,
      headers: rotateHeaders,
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.secret).toBeUndefined();
    const [stored] = await env.app.sql<{ secret: string }[]>`
      select secret from webhook_endpoints where id = ${created.body.id}`;
    expect(stored?.secret).toBe(rotated.body.secret);
  });

  it('replays a creation whose endpoint was deleted as that endpoint, creating none', async () => {
    const tenant = await newTenant(env.app.sql);
    const body = { url: 'http://127.0.0.1:9/hook', event_types: ['*'] };
    const headers = { 'idempotency-key': 'create-then-delete' };
    const first = await postEndpoint(tenant.key, body, headers);
    const path = `/v1/webhook-endpoints/${first.body.id}`;
    expect((await call(env.app, 'DELETE', path, { key: tenant.key })).status).toBe(200);
    const replay = await postEndpoint(tenant.key, body, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toMatchObject({ id: first.body.id, deleted: true });
    expect(replay.body.secret).toBeUndefined();
    const [count] = await env.app.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_endpoints where tenant_id = ${tenant.tenantId}`;
    expect(count?.n).toBe(1);
  });

  it('validates event types and URLs', async () => {
    const tenant = await newTenant(env.app.sql);
    const bad = [
      { url: 'http://127.0.0.1:9/', event_types: [] },
      { url: 'http://127.0.0.1:9/', event_types: ['transfer.lost'] },
      { url: 'not a url', event_types: ['*'] },
      { url: 'http://127.0.0.1:9/', event_types: ['*'], secret: 'whsec_mine' },
    ];
    for (const body of bad) {
      const answer = await call(env.app, 'POST', '/v1/webhook-endpoints', {
        key: tenant.key,
        body,
      });
      expect([body, answer.status]).toEqual([body, 422]);
    }
    const unknownType = await call<{ errors: unknown[] }>(
      env.app,
      'POST',
      '/v1/webhook-endpoints',
      {
        key: tenant.key,
        body: { url: 'http://127.0.0.1:9/', event_types: ['transfer.posted', 'transfer.lost'] },
      },
    );
    expect(unknownType.body.errors).toEqual([
      {
        field: 'event_types.1',
        message:
          'Invalid option: expected one of "transfer.posted"|"transfer.failed"|' +
          '"account.closed"|"endpoint.disabled"|"*"',
      },
    ]);
    const star = await createEndpoint(env.app, tenant.key, 'http://127.0.0.1:9/', [
      'transfer.posted',
      '*',
    ]);
    const read = await call<EndpointBody>(env.app, 'GET', `/v1/webhook-endpoints/${star.id}`, {
      key: tenant.key,
    });
    expect(read.body.event_types).toEqual(['*']);
  });

  it('sends only subscribed types to enabled endpoints, and nothing after delete', async () => {
    const receiver = await startReceiver();
    const tenant = await newTenant(env.app.sql);
    const posted = await createEndpoint(env.app, tenant.key, `${receiver.url}?e=posted`, [
      'transfer.posted',
    ]);
    const off = await createEndpoint(env.app, tenant.key, `${receiver.url}?e=off`);
    const patched = await call<EndpointBody>(env.app, 'PATCH', `/v1/webhook-endpoints/${off.id}`, {
      key: tenant.key,
      body: { enabled: false, description: 'paused' },
    });
    expect(patched.body).toMatchObject({
      enabled: false,
      disabled_reason: 'manual',
      description: 'paused',
    });

    const [postedEvent] = await appendTestEvents(
      env.app.sql,
      tenant.tenantId,
      1,
      'transfer.posted',
    );
    await appendTestEvents(env.app.sql, tenant.tenantId, 1, 'transfer.failed');
    await waitFor(() => receiver.requests.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([postedEvent?.id]);
    expect(await listDeliveries(env.app, tenant.key, off.id)).toEqual([]);

    const deleted = await call<EndpointBody>(
      env.app,
      'DELETE',
      `/v1/webhook-endpoints/${posted.id}`,
      {
        key: tenant.key,
      },
    );
    expect(deleted.body).toMatchObject({ deleted: true, enabled: false });
    const gone = await call(env.app, 'GET', `/v1/webhook-endpoints/${posted.id}`, {
      key: tenant.key,
    });
    expect(gone.status).toBe(404);
    const [row] = await env.app.sql`select id from webhook_endpoints where id = ${posted.id}`;
    expect(row).toBeDefined();

    await appendTestEvents(env.app.sql, tenant.tenantId, 1, 'transfer.posted');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });

  it('publishes every webhook route in the OpenAPI document', async () => {
    const answer = await env.app.request('/openapi.json');
    const doc = (await answer.json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /v1/events',
        'GET /v1/events/{id}',
        'POST /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints/{id}',
        'PATCH /v1/webhook-endpoints/{id}',
        'DELETE /v1/webhook-endpoints/{id}',
        'POST /v1/webhook-endpoints/{id}/rotate-secret',
        'GET /v1/webhook-endpoints/{id}/deliveries',
        'POST /v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry',
      ]),
    );
  });
});
