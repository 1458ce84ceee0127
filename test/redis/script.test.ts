import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connection.js';
import { RedisScript } from '../../src/redis/script.js';
import { testConfig } from '../support/env.js';
import { watchWrites } from '../support/redis-writes.js';

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

describe('scripts run with the other calls of their turn', () => {
  it('sends the calls of one turn in one write, each with its own reply or error', async () => {
    const script = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('incrby', KEYS[1], ARGV[1])`,
    );
    const base = `${config.REDIS_PREFIX}:script-turn:${randomBytes(4).toString('hex')}`;
    const notANumber = `${base}:text`;
    await redis.set(notANumber, 'not a number');
    const watch = watchWrites(redis);
    try {
      // Redis has never seen this script: the replies are NOSCRIPT errors,
      // and each call falls back to sending the text on its own.
      const first = await Promise.allSettled([
        script.runInTurn(redis, [`${base}:a`], [2]),
        script.runInTurn(redis, [`${base}:b`], [3]),
        script.runInTurn(redis, [notANumber], [1]),
      ]);
      expect(first.map(outcome)).toEqual([2, 3, 'ERR']);

      const writesBefore = watch.counts.writes;
      const second = await Promise.allSettled([
        script.runInTurn(redis, [`${base}:a`], [10]),
        script.runInTurn(redis, [`${base}:b`], [10]),
        script.runInTurn(redis, [`${base}:c`], [10]),
      ]);
      expect(second.map(outcome)).toEqual([12, 13, 10]);
      expect(watch.counts.writes - writesBefore).toBe(1);

      const later = await script.runInTurn(redis, [`${base}:a`], [1]);
      expect(later).toBe(13);
    } finally {
      watch.restore();
      await redis.del(`${base}:a`, `${base}:b`, `${base}:c`, notANumber);
    }
    // An ioredis pipeline outlives its use until the next full collection of
    // the heap, with every command it carried: none is opened.
    expect(watch.counts.pipelines).toBe(0);
  });

  it('keeps the order in which rounds start, a lone call before a later round', async () => {
    const write = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('set', KEYS[1], ARGV[1])`,
    );
    const read = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('get', KEYS[1])`,
    );
    const key = `${config.REDIS_PREFIX}:script-order:${randomBytes(4).toString('hex')}`;
    try {
      // Both scripts once first, so that neither round waits for a NOSCRIPT.
      await write.run(redis, [key], ['warm']);
      await read.run(redis, [key], []);
      // One write alone in its round, then two reads in the next round to
      // start: the reads must see the write.
      const written = write.runInTurn(redis, [key], ['first']);
      const reads = [read.runInTurn(redis, [key], []), read.runInTurn(redis, [key], [])];
      expect(await written).toBe('OK');
      expect(await Promise.all(reads)).toEqual(['first', 'first']);
    } finally {
      await redis.del(key);
    }
  });
});

function outcome(result: PromiseSettledResult<unknown>): unknown {
  if (result.status === 'fulfilled') return result.value;
  return String((result.reason as Error).message).startsWith('ERR') ? 'ERR' : result.reason;
}
