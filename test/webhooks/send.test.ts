import { describe, expect, it } from 'vitest';
import { RESPONSE_BODY_LIMIT, sendWebhook } from '../../src/webhooks/send.js';
import { startReceiver } from './support.js';

function request(port: number, timeoutMs = 2_000) {
  return {
    url: new URL(`http://127.0.0.1:${port}/hook`),
    pinned: undefined,
    headers: { 'webhook-id': 'evt_1' },
    body: '{"type":"transfer.posted"}',
    timeoutMs,
  };
}

describe('sending one webhook', () => {
  it('posts the exact body as JSON and keeps only the start of the answer', async () => {
    const receiver = await startReceiver(() => ({
      status: 500,
      body: `a\u0000${'x'.repeat(5_000)}`,
    }));
    const result = await sendWebhook(request(receiver.port));
    expect(result.statusCode).toBe(500);
    expect(result.error).toBeNull();
    expect(result.responseBody?.startsWith('ax')).toBe(true);
    expect(result.responseBody?.length).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT);
    expect(receiver.requests[0]?.body).toBe('{"type":"transfer.posted"}');
    expect(receiver.requests[0]?.headers['content-type']).toBe('application/json');
    await receiver.close();
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const receiver = await startReceiver(() => new Promise(() => {}));
    const started = Date.now();
    const result = await sendWebhook(request(receiver.port, 300));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ statusCode: null, error: 'no answer within 300 ms' });
    await receiver.close();
  });

  it('does not follow redirects', async () => {
    const receiver = await startReceiver(() => ({
      status: 307,
      headers: { location: 'http://169.254.169.254/latest' },
    }));
    const result = await sendWebhook(request(receiver.port));
    expect(result.statusCode).toBe(307);
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });
});
