import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/lib/free-port.js';
import { createRedis } from '../../src/redis/connection.js';
import { captureLogger, waitUntil } from '../worker/fixtures.js';

describe('Redis connections', () => {
  it("logs a connection's own errors with its name", async () => {
    // Nothing listens on this port: every connection attempt is refused.
    const port = await freePort();
    const { logger, records } = captureLogger();
    const redis = createRedis(
      { REDIS_URL: `redis://127.0.0.1:${port}` },
      { name: 'nowhere', log: logger },
    );
    try {
      await waitUntil('a connection error was logged', async () =>
        Promise.resolve(records.some((record) => record.msg === 'redis connection error')),
      );
    } finally {
      redis.disconnect();
    }
    const [record] = records.filter((line) => line.msg === 'redis connection error');
    expect(record?.connection).toBe('nowhere');
    expect(record?.level).toBe(40);
  });
});
