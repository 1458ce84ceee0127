import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/lib/free-port.js';
import { createRedis, subscribeWhenReady } from '../../src/redis/connection.js';
import { testConfig } from '../support/env.js';
import { startRedisServer } from '../support/processes.js';
import { captureLogger, waitUntil } from '../worker/fixtures.js';

describe('Redis connections', () => {
  it('logs an outage in few lines, with its name, and says when it is back', async () => {
    // Nothing listens on this port yet: every connection attempt is refused.
    const port = await freePort();
    const { logger, records } = captureLogger();
    const redis = createRedis(
      { REDIS_URL: `redis://127.0.0.1:${port}` },
      { name: 'flaky', log: logger },
    );
    const errors = () => records.filter((record) => record.msg === 'redis connection error');
    let server: ChildProcess | undefined;
    try {
      await waitUntil('a connection error was logged', async () =>
        Promise.resolve(errors().length > 0),
      );
      // ioredis tries again within 50, 100, 150... ms: many errors, one line.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(errors()).toHaveLength(1);
      expect(errors()[0]).toMatchObject({ connection: 'flaky', level: 40 });

      server = await startRedisServer(port);
      await waitUntil('the connection was logged as restored', async () =>
        Promise.resolve(records.some((record) => record.msg === 'redis connection restored')),
      );
    } finally {
      redis.disconnect();
      server?.kill('SIGKILL');
    }
    const restored = records.find((record) => record.msg === 'redis connection restored');
    expect(restored?.connection).toBe('flaky');
    expect(Number(restored?.errors)).toBeGreaterThan(3);
  });

  it('subscribes a connection still being set up without an error or a reconnect', async () => {
    const config = testConfig();
    const { logger, records } = captureLogger();
    const subscriber = createRedis(config, { blocking: true, name: 'settled', log: logger });
    const publisher = createRedis(config);
    const channel = `${config.REDIS_PREFIX}:subscribe-probe`;
    const received: string[] = [];
    subscriber.on('message', (_from: string, message: string) => received.push(message));
    let readies = 0;
    subscriber.on('ready', () => {
      readies += 1;
    });
    try {
      // 'connect' comes before the connection's own ready check: the moment
      // at which a SUBSCRIBE written at once makes that check fail.
      const statusAtSubscribe = await new Promise<string>((resolve, reject) => {
        subscriber.once('connect', () => {
          const status = subscriber.status;
          subscribeWhenReady(subscriber, channel).then(() => resolve(status), reject);
        });
      });
      expect(statusAtSubscribe).toBe('connect');
      await waitUntil('a published message arrived', async () => {
        await publisher.publish(channel, 'hello');
        return received.length > 0;
      });
      expect(received[0]).toBe('hello');
      expect(records.filter((record) => record.msg === 'redis connection error')).toEqual([]);
      expect(readies).toBe(1);
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
    }
  });
});
