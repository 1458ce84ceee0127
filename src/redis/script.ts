import { createHash } from 'node:crypto';
import { Coalescer, settle, submitSettled } from '../lib/coalescer.js';
import type { Redis } from './connection.js';
import { inOneWrite } from './one-write.js';

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
   * Runs the script as `run` does, together with the other calls of this
   * script on this connection made during the same turn of the event loop:
   * their commands leave in one write (`inOneWrite`), so concurrent requests
   * share one write and one read instead of one each. Each call gets its own
   * reply or its own error, and falls back to the text on its own.
   */
  runInTurn(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    let turn = this.turns.get(redis);
    if (!turn) {
      turn = new Coalescer(
        async (calls) =>
          Promise.all(
            inOneWrite(redis, calls, (call) => settle(this.run(redis, call.keys, call.args))),
          ),
        { maxBatch: 256, maxInFlight: 4, gatherTurn: true },
      );
      this.turns.set(redis, turn);
    }
    return submitSettled(turn, { keys, args });
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
