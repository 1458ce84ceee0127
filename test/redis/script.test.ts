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

describe('scripts run with the other calls of their turn', () => {
  /** Counts the pipelines the connection opens. */
  function countPipelines(connection: typeof redis) {
    const counts = { pipelines: 0 };
    const pipeline = connection.pipeline.bind(connection);
    connection.pipeline = ((...args: Parameters<typeof pipeline>) => {
      counts.pipelines += 1;
      return pipeline(...args);
    }) as typeof connection.pipeline;
    return {
      counts,
      restore() {
        connection.pipeline = pipeline;
      },
    };
  }

  it('sends the calls of one turn in one pipeline, each with its own reply or error', async () => {
    const script = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('incrby', KEYS[1], ARGV[1])`,
    );
    const base = `${config.REDIS_PREFIX}:script-turn:${randomBytes(4).toString('hex')}`;
    const notANumber = `${base}:text`;
    await redis.set(notANumber, 'not a number');
    const spy = countPipelines(redis);
    try {
      // Redis has never seen this script: the pipeline's replies are NOSCRIPT
      // errors, and each call falls back to sending the text.
      const first = await Promise.allSettled([
        script.runInTurn(redis, [`${base}:a`], [2]),
        script.runInTurn(redis, [`${base}:b`], [3]),
        script.runInTurn(redis, [notANumber], [1]),
      ]);
      expect(first.map(outcome)).toEqual([2, 3, 'ERR']);

      const pipelinesBefore = spy.counts.pipelines;
      const second = await Promise.allSettled([
        script.runInTurn(redis, [`${base}:a`], [10]),
        script.runInTurn(redis, [`${base}:b`], [10]),
      ]);
      expect(second.map(outcome)).toEqual([12, 13]);
      expect(spy.counts.pipelines - pipelinesBefore).toBe(1);

      const later = await script.runInTurn(redis, [`${base}:a`], [1]);
      expect(later).toBe(13);
    } finally {
      spy.restore();
      await redis.del(`${base}:a`, `${base}:b`, notANumber);
    }
    // Two pipelines for the two turns of several calls; the lone call of the
    // last turn goes on its own.
    expect(spy.counts.pipelines).toBe(2);
  });
});

describe('scripts on a connection that pipelines by itself', () => {
  it('keeps the order in which rounds start, a lone call before a later pipeline', async () => {
    const auto = createRedis(config, { autoPipelining: true });
    const write = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('set', KEYS[1], ARGV[1])`,
    );
    const read = new RedisScript(
      `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('get', KEYS[1])`,
    );
    const key = `${config.REDIS_PREFIX}:script-order:${randomBytes(4).toString('hex')}`;
    try {
      await auto.ping();
      // Both scripts once first, so that neither round waits for a NOSCRIPT.
      await write.run(auto, [key], ['warm']);
      await read.run(auto, [key], []);
      // One write alone in its round, then two reads in the next round to
      // start: the reads must see the write.
      const written = write.runInTurn(auto, [key], ['first']);
      const reads = [read.runInTurn(auto, [key], []), read.runInTurn(auto, [key], [])];
      expect(await written).toBe('OK');
      expect(await Promise.all(reads)).toEqual(['first', 'first']);
    } finally {
      await auto.del(key);
      auto.disconnect();
    }
  });
});

function outcome(result: PromiseSettledResult<unknown>): unknown {
  if (result.status === 'fulfilled') return result.value;
  return String((result.reason as Error).message).startsWith('ERR') ? 'ERR' : result.reason;
}
