import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/connection.js';

/**
 * Renews this process's membership (ARGV[3] = 1), or leaves it (0), and
 * answers every member's: one round trip, with Redis's own clock, so that
 * the hosts' clocks need not agree. A member's score is when its membership
 * lapses.
 */
const BEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[2])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/** Failed runs in a row after which a process stands aside (see `PartitionOwners`). */
export const FAILED_RUNS_TO_STAND_ASIDE = 3;

/** The longest a process stands aside at a time, unless its lease is longer. */
const LONGEST_ASIDE_MS = 60_000;

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

/**
 * The partitions that `self` takes while it stands aside: none while any
 * other process is a member, every one when none is, since nobody else
 * would apply them.
 */
export function partitionsAside(
  members: readonly string[],
  self: string,
  partitions: number,
): number[] {
  if (members.some((member) => member !== self)) return [];
  return Array.from({ length: partitions }, (_, partition) => partition);
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
  /**
   * Whether this process can apply transfers again (its database answers),
   * asked before it rejoins after standing aside; false if it takes longer
   * than the lease. Without it, the process rejoins when its time is up.
   */
  probe?: () => Promise<unknown>;
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
 *
 * A process whose runs fail `FAILED_RUNS_TO_STAND_ASIDE` times in a row
 * (its pool cut off from PostgreSQL, say, while the others still reach it)
 * stands aside: it leaves the members, so that the others take its
 * partitions at their next renewal, and takes none while any other process
 * is a member. It rejoins after a successful run, or once its time aside is
 * up and `probe` answers: twice the lease at first, doubling each time it
 * stands aside again without a successful run between, up to a minute.
 */
export class PartitionOwners {
  readonly self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private readonly key: string;
  private failedRuns = 0;
  /** When this process may rejoin, while it stands aside. */
  private asideUntil: number | undefined;
  private asideMs: number;

  constructor(private readonly options: PartitionOwnersOptions) {
    this.key = `${options.prefix}:transfer-workers`;
    this.asideMs = 2 * options.leaseMs;
  }

  /** Joins the members and takes this process's partitions; renews until `stop`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.renew(), this.options.leaseMs / 5);
    this.timer.unref();
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  /** Whether this process stands aside now. */
  get standingAside(): boolean {
    return this.asideUntil !== undefined;
  }

  /** Counts a run that ended in an error; enough in a row, and this process stands aside. */
  runFailed(): void {
    this.failedRuns += 1;
    if (this.standingAside || this.failedRuns < FAILED_RUNS_TO_STAND_ASIDE) return;
    this.asideUntil = Date.now() + this.asideMs;
    this.options.logger.warn(
      { failedRuns: this.failedRuns, asideMs: this.asideMs },
      'runs keep failing here: standing aside, so that other worker processes take the partitions',
    );
    this.asideMs = Math.min(2 * this.asideMs, Math.max(LONGEST_ASIDE_MS, 2 * this.options.leaseMs));
    this.renew();
  }

  /** Counts a run that ended well; a process that stood aside rejoins. */
  runSucceeded(): void {
    this.failedRuns = 0;
    this.asideMs = 2 * this.options.leaseMs;
    if (!this.standingAside) return;
    this.asideUntil = undefined;
    this.options.logger.info('a run succeeded: rejoining the transfer workers');
    this.renew();
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

  /** Renews now, unless a renewal is under way. */
  private renew(): void {
    if (this.stopped) return;
    this.beating ??= this.beat().finally(() => {
      this.beating = undefined;
    });
  }

  private async beat(): Promise<void> {
    await this.endTimeAside();
    const aside = this.standingAside;
    let members: string[];
    try {
      members = (await this.options.redis.eval(
        BEAT,
        1,
        this.key,
        this.self,
        String(this.options.leaseMs),
        aside ? '0' : '1',
      )) as string[];
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not renew the transfer worker membership');
      if (this.owned.size === 0) this.take(partitionsOwned([], this.self, this.options.partitions));
      return;
    }
    const divide = aside ? partitionsAside : partitionsOwned;
    this.take(divide(members, this.self, this.options.partitions));
  }

  /** Rejoins once the time aside is up and the probe answers; else waits as long again. */
  private async endTimeAside(): Promise<void> {
    if (this.asideUntil === undefined || Date.now() < this.asideUntil) return;
    if (await this.probeAnswers()) {
      this.asideUntil = undefined;
      this.options.logger.info('the time aside is up: rejoining the transfer workers');
    } else {
      this.asideUntil = Date.now() + this.asideMs;
    }
  }

  private async probeAnswers(): Promise<boolean> {
    const { probe, leaseMs } = this.options;
    if (!probe) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), leaseMs);
    });
    try {
      return await Promise.race([probe().then(() => true), late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
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
