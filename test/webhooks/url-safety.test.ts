import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook } from '../../src/webhooks/send.js';
import { forbiddenAddressKind, resolveSafeUrl } from '../../src/webhooks/url-safety.js';
import { call, newTenant, type TestApp } from '../support/app.js';
import {
  appendTestEvents,
  createEndpoint,
  listDeliveries,
  type RunningWebhooks,
  startIsolatedApp,
  startReceiver,
  startWebhooks,
  waitFor,
} from './support.js';

describe('address classification', () => {
  it('names every range a webhook must not reach', () => {
    expect(forbiddenAddressKind('169.254.169.254')).toBe('a cloud metadata');
    expect(forbiddenAddressKind('fd00:ec2::254')).toBe('a cloud metadata');
    expect(forbiddenAddressKind('127.0.0.1')).toBe('a loopback');
    expect(forbiddenAddressKind('127.255.0.9')).toBe('a loopback');
    expect(forbiddenAddressKind('::1')).toBe('a loopback');
    expect(forbiddenAddressKind('::ffff:127.0.0.1')).toBe('a loopback');
    expect(forbiddenAddressKind('10.1.2.3')).toBe('a private');
    expect(forbiddenAddressKind('172.16.0.1')).toBe('a private');
    expect(forbiddenAddressKind('172.31.255.255')).toBe('a private');
    expect(forbiddenAddressKind('192.168.1.1')).toBe('a private');
    expect(forbiddenAddressKind('fc00::1')).toBe('a private');
    expect(forbiddenAddressKind('fdab::1')).toBe('a private');
    expect(forbiddenAddressKind('169.254.10.10')).toBe('a link-local');
    expect(forbiddenAddressKind('fe80::1')).toBe('a link-local');
    expect(forbiddenAddressKind('100.64.0.1')).toBe('a shared (carrier-grade NAT)');
    expect(forbiddenAddressKind('100.127.255.254')).toBe('a shared (carrier-grade NAT)');
    expect(forbiddenAddressKind('0.0.0.0')).toBe('an unspecified');
    expect(forbiddenAddressKind('::')).toBe('an unspecified');
    expect(forbiddenAddressKind('224.0.0.1')).toBe('a multicast');
    expect(forbiddenAddressKind('ff02::1')).toBe('a multicast');
    expect(forbiddenAddressKind('255.255.255.255')).toBe('a reserved');
  });

  it('refuses the IPv6 ranges that embed an IPv4 address or reach no host of their own', () => {
    for (const address of [
      '64:ff9b:1::a9fe:a9fe', // local-use NAT64 of the metadata address
      '2002:a9fe:a9fe::1', // 6to4 of the metadata address
      '2002:7f00:1::1', // 6to4 of loopback
      '::ffff:0:a9fe:a9fe', // IPv4-translated
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      '100::1', // discard-only
    ]) {
      expect([address, forbiddenAddressKind(address)]).toEqual([address, 'a reserved']);
    }
  });

  it('lets public addresses through', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2a00::1']) {
      expect(forbiddenAddressKind(address)).toBeUndefined();
    }
  });

  it('reads IP literals in any spelling the URL parser accepts', async () => {
    for (const url of ['https://2130706433/', 'https://0x7f.1/', 'https://[::ffff:7f00:1]/']) {
      const check = await resolveSafeUrl(url, false);
      expect(check.ok ? 'allowed' : check.reason).toMatch(/loopback/);
    }
  });

  it('connects to the pinned address, not to what the name resolves to', async () => {
    const receiver = await startReceiver(() => ({ status: 202 }));
    // `.invalid` never resolves; the request can only arrive through the pin.
    const result = await sendWebhook({
      url: new URL(`http://pinned.invalid:${receiver.port}/hook`),
      pinned: { address: '127.0.0.1', family: 4 },
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
    });
    expect(result.statusCode).toBe(202);
    expect(receiver.requests[0]?.headers.host).toBe(`pinned.invalid:${receiver.port}`);
    await receiver.close();
  });
});

describe('with private URLs allowed', () => {
  it('still refuses metadata, link-local and reserved addresses; lets loopback in', async () => {
    const refused = [
      'http://169.254.169.254/latest',
      'http://[fd00:ec2::254]/',
      'http://169.254.170.2/v2/credentials',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[::a9fe:a9fe]/',
      'http://169.254.10.10/',
    ];
    for (const url of refused) {
      const check = await resolveSafeUrl(url, true);
      expect(check.ok, url).toBe(false);
    }
    expect((await resolveSafeUrl('http://127.0.0.1:9/hook', true)).ok).toBe(true);
    expect((await resolveSafeUrl('http://[::1]:9/hook', true)).ok).toBe(true);
  });
});

describe('private and metadata addresses with the flag off', () => {
  let strict: TestApp;
  let lenient: TestApp;
  let webhooks: RunningWebhooks;

  beforeAll(async () => {
    strict = await startIsolatedApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    lenient = await startIsolatedApp();
    webhooks = await startWebhooks({ ...lenient.config, WEBHOOK_ALLOW_PRIVATE_URLS: false });
  });
  afterAll(async () => {
    await webhooks.stop();
    await strict.close();
    await lenient.close();
  });

  it('refuses to register them (422 on url)', async () => {
    const tenant = await newTenant(strict.sql);
    const refused = [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://10.0.0.8/hook',
      'https://192.168.0.10/hook',
      'https://172.20.1.1/hook',
      'https://100.64.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[fd00:ec2::254]/latest',
      'https://[fe80::1]/hook',
      'https://0.0.0.0/hook',
      'http://93.184.216.34/hook',
      'ftp://93.184.216.34/hook',
      'https://user:pass@93.184.216.34/hook',
    ];
    for (const url of refused) {
      const answer = await call<{ code: string; errors: { field: string }[] }>(
        strict,
        'POST',
        '/v1/webhook-endpoints',
        { key: tenant.key, body: { url, event_types: ['*'] } },
      );
      expect([url, answer.status, answer.body.code]).toEqual([url, 422, 'validation_error']);
      expect(answer.body.errors.map((e) => e.field)).toEqual(['url']);
    }
    const list = await call<{ data: unknown[] }>(strict, 'GET', '/v1/webhook-endpoints', {
      key: tenant.key,
    });
    expect(list.body.data).toEqual([]);

    // An https URL on a public address literal is accepted (nothing is contacted).
    const ok = await call(strict, 'POST', '/v1/webhook-endpoints', {
      key: tenant.key,
      body: { url: 'https://93.184.216.34/hook', event_types: ['transfer.posted'] },
    });
    expect(ok.status).toBe(201);
  });

  it('refuses to change a URL to one of them', async () => {
    const tenant = await newTenant(strict.sql);
    const endpoint = await createEndpoint(strict, tenant.key, 'https://93.184.216.34/hook');
    const answer = await call(strict, 'PATCH', `/v1/webhook-endpoints/${endpoint.id}`, {
      key: tenant.key,
      body: { url: 'https://169.254.169.254/' },
    });
    expect(answer.status).toBe(422);
  });

  it('refuses to deliver to them, and records the refusal as a failed attempt', async () => {
    const receiver = await startReceiver();
    const tenant = await newTenant(lenient.sql);
    // Saved while private URLs were allowed; the webhooks process no longer allows them.
    const url = `https://127.0.0.1:${receiver.port}/hook`;
    const endpoint = await createEndpoint(lenient, tenant.key, url);
    await appendTestEvents(lenient.sql, tenant.tenantId, 1);

    const delivery = await waitFor(async () => {
      const [found] = await listDeliveries(lenient, tenant.key, endpoint.id);
      return found?.status === 'failed' ? found : undefined;
    });
    expect(delivery.attempts).toHaveLength(4);
    for (const attempt of delivery.attempts) {
      expect(attempt.succeeded).toBe(false);
      expect(attempt.error).toMatch(/^refused: the URL resolves to a loopback address/);
    }
    expect(receiver.requests).toHaveLength(0);
    await receiver.close();
  });
});
