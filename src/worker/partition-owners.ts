import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/connection.js';

/**
 * Renews this process's membership and answers every member's: one round
 * trip, with Redis's own clock, so that the hosts' clocks need not agree.
 * A member's score is when its membership lapses.
 */
const BEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], lease * 2)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/**
 * The partitions that `self` takes among `members`: every n-th, by its
 * place among the members sorted, so that each of n processes takes a share
 * of 1/n, and all processes that see the same members divide the partitions
 * the same way, each partition to exactly one. A process that is not among
 * the members (Redis has not answered it yet) takes every partition.
 */
export function partitionsOwned(
  members: readonly string[],
  self: string,
  partitions: number,
): number[] {
  const sorted = [...new Set(members)].sort();
  const place = sorted.indexOf(self);
  const all = Array.from({ length: partitions }, (_, partition) => partition);
  if (place < 0) return all;
  return all.filter((partition) => partition % sorted.length === place);
}

export interface PartitionOwnersOptions {
  redis: Redis;
  prefix: string;
  partitions: number;
  /** How long a membership lasts without renewal; it is renewed every fifth of it. */
  leaseMs: number;
  logger: Logger;
  /** Called with the partitions this process takes, at start and at every renewal. */
  onChange: (owned: ReadonlySet<number>) => void;
}

/**
 * Divides the partition queues among the transfer worker processes. BullMQ
 * gives a queue's next job to the worker that finished the last one, so
 * left alone the first process keeps every busy partition and the others
 * idle. Here each process renews a membership in Redis and takes the
 * partitions `partitionsOwned` gives it among the members present; it
 * leaves the others to their owners. A process that stops ends its
 * membership, and the others take its partitions at their next renewal; one
 * that dies loses them once its membership lapses (`leaseMs`).
 *
 * This only shares the work: two processes that briefly disagree on the
 * members may both take a partition, which the queues' global concurrency
 * of 1 and the apply step's partition locks make harmless, or neither, for
 * at most a renewal. While Redis does not answer, a process keeps the
 * partitions it had.
 */
export class PartitionOwners {
  readonly self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private readonly key: string;

  constructor(private readonly options: PartitionOwnersOptions) {
    this.key = `${options.prefix}:transfer-workers`;
  }

  /** Joins the members and takes this process's partitions; renews until `stop`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => {
        this.beating = undefined;
      });
    }, this.options.leaseMs / 5);
    this.timer.unref();
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  /**
   * Stops renewing and, with `leave`, leaves the members, so that the others
   * take the partitions now; without it the membership lapses.
   */
  async stop({ leave }: { leave: boolean }): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (!leave) return;
    await this.beating;
    await this.options.redis.zrem(this.key, this.self).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not leave the transfer workers');
    });
  }

  private async beat(): Promise<void> {
    let members: string[];
    try {
      members = (await this.options.redis.eval(
        BEAT,
        1,
        this.key,
        this.self,
        String(this.options.leaseMs),
      )) as string[];
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not renew the transfer worker membership');
      if (this.owned.size === 0) this.take(partitionsOwned([], this.self, this.options.partitions));
      return;
    }
    this.take(partitionsOwned(members, this.self, this.options.partitions));
  }

  /**
   * Hands the partitions to `onChange` at every renewal, not only when they
   * change, so that a queue worker left idle by a pause and a resume that
   * crossed in BullMQ is set going again.
   */
  private take(partitions: number[]): void {
    if (this.stopped) return;
    const next = new Set(partitions);
    const same = next.size === this.owned.size && partitions.every((p) => this.owned.has(p));
    this.owned = next;
    if (!same) this.options.logger.info({ partitions }, 'partitions taken');
    this.options.onChange(next);
  }
}
