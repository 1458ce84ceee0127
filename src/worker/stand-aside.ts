import { isTransientError } from '../lib/errors.js';

/** Failed runs in a row, over at least a lease, after which a process stands aside. */
export const FAILED_RUNS_TO_STAND_ASIDE = 3;

/** The longest a process stands aside at a time, unless twice its lease is longer. */
const LONGEST_ASIDE_MS = 60_000;

/**
 * Whether a worker process stands aside (see `PartitionOwners`): it counts
 * the runs that fail for an outage (`isTransientError`) and keeps the time
 * aside. A process stands aside after `FAILED_RUNS_TO_STAND_ASIDE` such runs
 * in a row, over at least a lease, so that one fault shared by the runs of
 * one transaction does not count as many; a run that fails for another
 * cause (a bug, a transfer the rules did not foresee) belongs to its
 * partition, which moving would not help, and does not count. Its time
 * aside is twice the lease at first, doubling each time it stands aside
 * again without a successful run between, up to a minute. Times are in ms.
 */
export class StandAside {
  private failedRuns = 0;
  private firstFailedAt: number | undefined;
  /** When the time aside ends, while the process stands aside. */
  private until: number | undefined;
  /** This time aside, which is also the wait between probes. */
  private current = 0;
  /** The next time aside. */
  private next: number;

  constructor(private readonly leaseMs: number) {
    this.next = 2 * leaseMs;
  }

  get active(): boolean {
    return this.until !== undefined;
  }

  /** How long this time aside lasts, in ms. */
  get timeAside(): number {
    return this.current;
  }

  /** Counts a run that failed with `error`; answers whether the process stands aside now. */
  failed(error: unknown, now: number): boolean {
    if (!isTransientError(error)) return false;
    this.failedRuns += 1;
    this.firstFailedAt ??= now;
    if (this.active || this.failedRuns < FAILED_RUNS_TO_STAND_ASIDE) return false;
    if (now - this.firstFailedAt < this.leaseMs) return false;
    this.current = this.next;
    this.until = now + this.current;
    this.next = Math.min(2 * this.next, Math.max(LONGEST_ASIDE_MS, 2 * this.leaseMs));
    return true;
  }

  /** Counts a run that ended well; answers whether the process stood aside and rejoins now. */
  succeeded(): boolean {
    this.next = 2 * this.leaseMs;
    const wasAside = this.active;
    this.rejoin();
    return wasAside;
  }

  /**
   * Whether to ask the probe now, while standing aside: once the time aside
   * is up, and at every renewal while no other process is a member.
   */
  probeDue(now: number, othersPresent: boolean): boolean {
    if (this.until === undefined) return false;
    return !othersPresent || now >= this.until;
  }

  /** The probe did not answer: the process waits its time aside again. */
  probeFailed(now: number): void {
    this.until = now + this.current;
  }

  /** Ends the time aside, and counts failures afresh. */
  rejoin(): void {
    this.until = undefined;
    this.failedRuns = 0;
    this.firstFailedAt = undefined;
  }
}
