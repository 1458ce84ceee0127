import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../../src/http/middleware/request-context.js';
import type { AppEnv } from '../../src/http/types.js';
import { captureLogger } from '../worker/fixtures.js';

describe('request log lines', () => {
  it('logs probes at debug, a failed probe at warn, and other requests as before', async () => {
    const { logger, records } = captureLogger();
    let ready = true;
    const app = new Hono<AppEnv>();
    app.use('*', requestContext(logger));
    app.get('/readyz', (c) => c.json({}, ready ? 200 : 503));
    app.get('/v1/things', (c) => c.json({}, 200));
    app.get('/v1/broken', (c) => c.json({}, 500));
    app.get('/v1/away', (c) => c.json({}, 503));

    await app.request('/readyz');
    ready = false;
    await app.request('/readyz');
    await app.request('/v1/things');
    await app.request('/v1/broken');
    await app.request('/v1/away');

    expect(
      records.map((record) => [record.route, record.status, record.level, record.msg]),
    ).toEqual([
      ['/readyz', 200, 20, 'request'],
      ['/readyz', 503, 40, 'probe failed'],
      ['/v1/things', 200, 30, 'request'],
      ['/v1/broken', 500, 50, 'request failed'],
      ['/v1/away', 503, 40, 'request failed: unavailable'],
    ]);
  });
});
