import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

describe('operator routes: metrics and queue dashboard', () => {
  let withPassword: TestApp;
  let without: TestApp;
  beforeAll(async () => {
    withPassword = await startTestApp({ ADMIN_PASSWORD: 'correct horse battery' });
    without = await startTestApp();
  });
  afterAll(async () => {
    await withPassword.close();
    await without.close();
  });

  it('shows every partition queue to an operator with the password', async () => {
    const auth = `Basic ${Buffer.from('admin:correct horse battery').toString('base64')}`;
    const response = await withPassword.request('/admin/queues/api/queues', {
      headers: { authorization: auth },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { queues: { name: string }[] };
    const names = body.queues.map((queue) => queue.name);
    expect(names).toEqual(
      expect.arrayContaining([
        ...Array.from({ length: withPassword.config.PARTITIONS }, (_, p) => `transfers-p${p}`),
        'webhook-deliveries',
      ]),
    );
  });

  it('serves Prometheus metrics with queue depth to an operator with the password', async () => {
    const auth = `Basic ${Buffer.from('admin:correct horse battery').toString('base64')}`;
    const response = await withPassword.request('/metrics', { headers: { authorization: auth } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('queue_jobs{queue="transfers-p0",state="waiting"}');
    expect(text).toContain('queue_jobs{queue="webhook-deliveries",state="waiting"}');
  });

  it('refuses anyone without the password', async () => {
    const wrong = `Basic ${Buffer.from('admin:guess').toString('base64')}`;
    for (const path of ['/admin/queues/api/queues', '/metrics']) {
      for (const headers of [{}, { authorization: wrong }] as Record<string, string>[]) {
        const response = await withPassword.request(path, { headers });
        expect(response.status, path).toBe(401);
        // A browser asks for the password only when told how to send it.
        expect(response.headers.get('www-authenticate'), path).toMatch(/^Basic realm=/);
        expect(((await response.json()) as { detail: string }).detail).toBe(
          'valid operator credentials are required',
        );
      }
    }
  });

  it('is not mounted at all without a configured password', async () => {
    expect((await without.request('/admin/queues')).status).toBe(404);
    expect((await without.request('/metrics')).status).toBe(404);
  });
});
