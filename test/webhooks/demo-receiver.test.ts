import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { registerDemoReceiver, startDemoReceiver } from '../../src/webhooks/demo-receiver.js';
import { newTenant, type TestApp } from '../support/app.js';
import {
  appendTestEvents,
  type RunningWebhooks,
  startIsolatedApp,
  startWebhooks,
} from './support.js';

describe('the demo receiver', () => {
  let app: TestApp;
  let webhooks: RunningWebhooks;
  let server: ReturnType<typeof serve>;
  let baseUrl: string;

  beforeAll(async () => {
    app = await startIsolatedApp();
    webhooks = await startWebhooks(app.config);
    server = serve({ fetch: createApp(app.deps).fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await webhooks.stop();
    await app.close();
  });

  it('registers through the API and verifies every delivery with standardwebhooks', async () => {
    const tenant = await newTenant(app.sql);
    const receiver = await startDemoReceiver({ failFirstAttempts: 1 });
    const { endpointId, secret } = await registerDemoReceiver(baseUrl, tenant.key, receiver);
    expect(endpointId).toMatch(/^whep_/);
    expect(secret).toMatch(/^whsec_/);

    const events = await appendTestEvents(app.sql, tenant.tenantId, 4);
    expect(await receiver.waitForEvents(4, 10_000)).toBe(true);
    const stats = receiver.stats();
    expect(stats).toMatchObject({
      delivered: 4,
      validSignatures: 4,
      invalidSignatures: 0,
      injectedFailures: 4,
      byType: { 'transfer.posted': 4 },
    });
    expect(
      receiver
        .events()
        .map((event) => event.id)
        .sort(),
    ).toEqual(events.map((event) => event.id).sort());

    // A receiver that holds the wrong secret counts every request as invalid.
    receiver.setSecrets(['whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
    await appendTestEvents(app.sql, tenant.tenantId, 1);
    const deadline = Date.now() + 10_000;
    while (receiver.stats().invalidSignatures === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(receiver.stats().invalidSignatures).toBeGreaterThan(0);
    expect(receiver.stats().delivered).toBe(4);
    await receiver.close();
  });
});
