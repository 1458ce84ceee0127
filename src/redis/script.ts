import { createHash } from 'node:crypto';
import type { Redis } from './connection.js';

/**
 * A Lua script sent by its SHA1 (EVALSHA), so that each call carries only
 * its keys and arguments; the text goes out again only when Redis does not
 * know the script (after a restart or a SCRIPT FLUSH). Every key a script
 * touches is passed in `keys`.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
