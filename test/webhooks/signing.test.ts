import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/webhooks/signing.js';
import { call, newTenant, type TestApp } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  type ReceivedRequest,
  type RunningWebhooks,
  startIsolatedApp,
  startReceiver,
  startWebhooks,
  waitFor,
} from './support.js';

const OVERLAP_MS = 2_000;

function verifies(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
}

describe('webhook signatures', () => {
  let app: TestApp;
  let webhooks: RunningWebhooks;

  beforeAll(async () => {
    app = await startIsolatedApp({ WEBHOOK_SECRET_OVERLAP_MS: String(OVERLAP_MS) });
    webhooks = await startWebhooks(app.config);
  });
  afterAll(async () => {
    await webhooks.stop();
    await app.close();
  });

  it('signs exactly as the standardwebhooks library does', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const timestamp = new Date(1_700_000_000_000);
    const body = '{"type":"transfer.posted","timestamp":"2023-11-14T22:13:20.000Z","data":{}}';
    expect(signatureHeader([secret], 'evt_1', 1_700_000_000, body)).toBe(
      new Webhook(secret).sign('evt_1', timestamp, body),
    );
  });

  it('delivers requests the library verifies, before, during and after a rotation', async () => {
    const receiver = await startReceiver();
    const tenant = await newTenant(app.sql);
    const endpoint = await createEndpoint(app, tenant.key, receiver.url);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const [before] = await appendTestEvents(app.sql, tenant.tenantId, 1);
    const first = await waitFor(() => receiver.requestsFor(before?.id ?? '')[0], 10_000, 'first');
    expect(verifies(endpoint.secret, first)).toBe(true);
    expect(first.headers['content-type']).toBe('application/json');
    expect(Number(first.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    const payload = JSON.parse(first.body) as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(['data', 'timestamp', 'type']);
    expect(payload.type).toBe('transfer.posted');
    expect(payload.timestamp).toBe(before?.createdAt.toISOString());

    const rotated = await call<{ secret: string; previous_secret_expires_at: string }>(
      app,
      'POST',
      `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      { key: tenant.key },
    );
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).not.toBe(endpoint.secret);
    const rotatedAt = Date.now();

    const [during] = await appendTestEvents(app.sql, tenant.tenantId, 1);
    const second = await waitFor(() => receiver.requestsFor(during?.id ?? '')[0], 10_000, 'two');
    expect(second.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifies(endpoint.secret, second)).toBe(true);
    expect(verifies(newSecret, second)).toBe(true);
    expect(Date.now() - rotatedAt).toBeLessThan(OVERLAP_MS);

    await new Promise((resolve) => setTimeout(resolve, OVERLAP_MS - (Date.now() - rotatedAt) + 50));
    const [after] = await appendTestEvents(app.sql, tenant.tenantId, 1);
    const third = await waitFor(() => receiver.requestsFor(after?.id ?? '')[0], 10_000, 'third');
    expect(third.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(verifies(newSecret, third)).toBe(true);
    expect(verifies(endpoint.secret, third)).toBe(false);

    // A tampered body fails verification: the check above is not vacuous.
    expect(verifies(newSecret, { ...third, body: third.body.replace('posted', 'failed') })).toBe(
      false,
    );
    await receiver.close();
  });
});
