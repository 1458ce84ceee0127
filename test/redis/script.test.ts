import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connection.js';
import { RedisScript } from '../../src/redis/script.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const redis = createRedis(config);
afterAll(() => redis.quit());

describe('scripts sent by their digest', () => {
  it('runs a script Redis has never seen, and then by its digest alone', async () => {
    // A comment no other script has: Redis cannot know this text yet.
    const script = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('incrby', KEYS[1], ARGV[1])`,
    );
    const key = `${config.REDIS_PREFIX}:script-test:${randomBytes(4).toString('hex')}`;
    await redis.ping();
    const sent: string[] = [];
    const monitor = (command: string) => {
      if (command.startsWith('eval')) sent.push(command);
    };
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      monitor(command.name);
      return original(command, stream);
    };
    try {
      expect(await script.run(redis, [key], [5])).toBe(5);
      expect(await script.run(redis, [key], [2])).toBe(7);
    } finally {
      redis.sendCommand = original;
      await redis.del(key);
    }
    expect(sent).toEqual(['evalsha', 'eval', 'evalsha']);
  });
});
