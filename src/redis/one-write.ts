import type { Redis } from './connection.js';

/**
 * Sends one command per item, each with its own reply, in one write to the
 * socket: the connection's socket is corked while `send` issues them, which
 * ioredis does at once on a ready connection. Commands sent while the
 * connection is not ready wait in its offline queue, as any would.
 *
 * This is what an ioredis pipeline is for, without its cost: each pipeline
 * defines an accessor of its own, so V8 gives it a hidden class of its own,
 * kept in the old generation until the next full collection; through that
 * class the pipeline, its commands and their arguments survive every
 * collection of the young generation. A busy web process then promoted about
 * 8 MB a second of such garbage and ran a full collection every two or three
 * seconds, each a burst of slow answers.
 */
export function inOneWrite<T, R>(redis: Redis, items: readonly T[], send: (item: T) => R): R[] {
  const socket = redis.status === 'ready' && items.length > 1 ? redis.stream : undefined;
  socket?.cork();
  try {
    return items.map(send);
  } finally {
    socket?.uncork();
  }
}
