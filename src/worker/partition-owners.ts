import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { answersWithin } from '../lib/answers-within.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/connection.js';
import { StandAside } from './stand-aside.js';

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
  const all = allPartitions(partitions);
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
  return allPartitions(partitions);
}

function allPartitions(partitions: number): number[] {
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
 * A process whose runs keep failing for an outage (its pool cut off from
 * PostgreSQL, say, while the others still reach it) stands aside, as
 * `StandAside` decides: it leaves the members, so that the others take its
 * partitions at their next renewal, and takes none while another process is
 * a member. It rejoins after a successful run, or when `probe` answers,
 * asked at the end of each time aside and at every renewal while no other
 * process is a member.
 */
export class PartitionOwners {
  readonly self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  /** A renewal asked for while one was under way, to run when it ends. */
  private renewAgain = false;
  private stopped = false;
  private readonly stopping: Promise<void>;
  private signalStop: () => void = () => undefined;
  private readonly key: string;
  private readonly standAside: StandAside;
  /** Whether another process was a member at the last renewal. */
  private othersPresent = false;

  constructor(private readonly options: PartitionOwnersOptions) {
    this.key = `${options.prefix}:transfer-workers`;
    this.standAside = new StandAside(options.leaseMs);
    this.stopping = new Promise((resolve) => {
      this.signalStop = resolve;
    });
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
    return this.standAside.active;
  }

  /** Counts a run that ended in `error`; enough outages in a row, and this process stands aside. */
  runFailed(error: unknown): void {
    if (!this.standAside.failed(error, Date.now())) return;
    this.options.logger.warn(
      { asideMs: this.standAside.timeAside },
      'runs keep failing here: standing aside, so that other worker processes take the partitions',
    );
    this.renew();
  }

  /** Counts a run that ended well; a process that stood aside rejoins. */
  runSucceeded(): void {
    if (!this.standAside.succeeded()) return;
    this.options.logger.info('a run succeeded: rejoining the transfer workers');
    this.renew();
  }

  /**
   * Stops renewing and, with `leave`, leaves the members, so that the others
   * take the partitions now; without it the membership lapses.
   */
  async stop({ leave }: { leave: boolean }): Promise<void> {
    this.stopped = true;
    this.signalStop();
    clearInterval(this.timer);
    if (!leave) return;
    await this.beating;
    await this.options.redis.zrem(this.key, this.self).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not leave the transfer workers');
    });
  }

  /** Renews now, or as soon as the renewal under way ends. */
  private renew(): void {
    if (this.stopped) return;
    if (this.beating) {
      this.renewAgain = true;
      return;
    }
    this.beating = this.beat().finally(() => {
      this.beating = undefined;
      if (!this.renewAgain) return;
      this.renewAgain = false;
      this.renew();
    });
  }

  private async beat(): Promise<void> {
    await this.endTimeAside();
    if (this.stopped) return;
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
      const none = this.owned.size === 0 && !aside;
      if (none) this.take(partitionsOwned([], this.self, this.options.partitions));
      return;
    }
    this.othersPresent = members.some((member) => member !== this.self);
    const divide = aside ? partitionsAside : partitionsOwned;
    this.take(divide(members, this.self, this.options.partitions));
  }

  /**
   * While standing aside, asks the probe once the time aside is up, or at
   * every renewal while no other process was a member at the last one:
   * rejoins if it answers, else waits its time aside again. So after an
   * outage of every process, each rejoins at the first renewal at which its
   * database answers. A run that ends meanwhile decides instead.
   */
  private async endTimeAside(): Promise<void> {
    if (!this.standAside.probeDue(Date.now(), this.othersPresent)) return;
    const answered = await this.probeAnswers();
    // A run that succeeded meanwhile has rejoined already.
    if (this.stopped || !this.standAside.active) return;
    if (!answered) {
      this.standAside.probeFailed(Date.now());
      return;
    }
    this.standAside.rejoin();
    this.options.logger.info('PostgreSQL answers again: rejoining the transfer workers');
    this.renew();
  }

  /** Whether the probe answers within a lease; false at once on stop. */
  private async probeAnswers(): Promise<boolean> {
    const { probe, leaseMs } = this.options;
    return probe ? answersWithin(probe, leaseMs, this.stopping) : true;
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
