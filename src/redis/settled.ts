import { Coalescer } from '../lib/coalescer.js';
import type { Redis } from './connection.js';
import { redisKeys } from './connection.js';

/**
 * The post-commit signal that transfers reached a final status. It only
 * wakes waiters early; anyone who misses it still finds the truth in
 * PostgreSQL, so a lost message delays an answer and loses nothing.
 */
export interface SettledMessage {
  transferIds: string[];
}

export async function publishSettled(
  redis: Redis,
  prefix: string,
  transferIds: string[],
): Promise<void> {
  if (transferIds.length === 0) return;
  const message: SettledMessage = { transferIds };
  await redis.publish(redisKeys(prefix).transferSettledChannel, JSON.stringify(message));
}

export function parseSettled(raw: string): SettledMessage | undefined {
  try {
    const value = JSON.parse(raw) as { transferIds?: unknown };
    if (!Array.isArray(value.transferIds)) return undefined;
    return { transferIds: value.transferIds.filter((id): id is string => typeof id === 'string') };
  } catch {
    return undefined;
  }
}

/** Publishes settled transfers; see `createSettledPublisher`. */
export type SettledPublisher = (transferIds: string[]) => Promise<void>;

/**
 * One message for all the transfers reported in one turn of the event loop.
 * The jobs whose partitions shared an apply transaction all report when it
 * commits, so the transaction costs one message to Redis, and one wake-up of
 * each subscribed web process, instead of one per partition. Every caller
 * learns whether its message went out.
 */
export function createSettledPublisher(redis: Redis, prefix: string): SettledPublisher {
  const turns = new Coalescer<string[], void>(
    async (reports) => {
      await publishSettled(redis, prefix, reports.flat());
      return reports.map(() => undefined);
    },
    { maxBatch: 10_000, maxInFlight: 16, gatherTurn: true },
  );
  return (transferIds) =>
    transferIds.length === 0 ? Promise.resolve() : turns.submit(transferIds);
}
