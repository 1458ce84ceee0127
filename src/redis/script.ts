import { createHash } from 'node:crypto';
import { Coalescer, submitSettled } from '../lib/coalescer.js';
import type { Redis } from './connection.js';

interface Call {
  keys: string[];
  args: (string | number)[];
}

type Turn = Coalescer<Call, PromiseSettledResult<unknown>>;

/**
 * A Lua script sent by its SHA1 (EVALSHA), so that each call carries only
 * its keys and arguments; the text goes out again only when Redis does not
 * know the script (after a restart or a SCRIPT FLUSH). Every key a script
 * touches is passed in `keys`.
 */
export class RedisScript {
  private readonly sha: string;
  private readonly turns = new WeakMap<Redis, Turn>();

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs the script as `run` does, in one pipeline with the other calls of
   * this script on this connection made during the same turn of the event
   * loop: concurrent requests then share one write and one read instead of
   * one each. Each call gets its own reply or its own error.
   */
  runInTurn(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    let turn = this.turns.get(redis);
    if (!turn) {
      turn = new Coalescer((calls) => this.runAll(redis, calls), {
        maxBatch: 256,
        maxInFlight: 4,
        gatherTurn: true,
      });
      this.turns.set(redis, turn);
    }
    return submitSettled(turn, { keys, args });
  }

  private async runAll(redis: Redis, calls: Call[]): Promise<PromiseSettledResult<unknown>[]> {
    const [only] = calls;
    // A connection that pipelines by itself would hold a lone command for one
    // more turn, and a round of another script started in this turn, written
    // at once as a pipeline, would overtake it (a replay's lock before the
    // release of the request it replays). Only elsewhere does a call go alone.
    const alone = calls.length === 1 && !redis.options.enableAutoPipelining;
    if (alone && only) return [await settle(this.run(redis, only.keys, only.args))];
    const pipeline = redis.pipeline();
    for (const call of calls) {
      pipeline.evalsha(this.sha, call.keys.length, ...call.keys, ...call.args);
    }
    const replies = (await pipeline.exec()) ?? [];
    return Promise.all(
      calls.map((call, index) => {
        const [error, reply] = replies[index] ?? [new Error('no reply from Redis'), null];
        if (!error) return { status: 'fulfilled', value: reply } as const;
        if (isNoScript(error)) {
          return settle(redis.eval(this.lua, call.keys.length, ...call.keys, ...call.args));
        }
        return { status: 'rejected', reason: error } as const;
      }),
    );
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}
