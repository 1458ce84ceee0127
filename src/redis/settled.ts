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
