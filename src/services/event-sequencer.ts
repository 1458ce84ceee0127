import { assignEventSequences } from '../data/events.js';
import { type Sql, withTransaction } from '../db/sql.js';
import { type Periodic, runPeriodically } from '../lib/periodic.js';
import type { Logger } from '../logger.js';

/** First key of the sequencer's advisory lock; the second is always 0. */
const SEQUENCER_LOCK_NAMESPACE = 727_366_201;
const BATCH = 1_000;

/**
 * Gives queued events their per-tenant sequence numbers. One sequencer acts
 * at a time across all processes (an advisory lock held to commit); another
 * that finds the lock taken returns at once, since the holder numbers what
 * is queued and the next pass takes what came later. Returns how many events
 * this call numbered.
 */
export async function sequenceEvents(sql: Sql): Promise<number> {
  let total = 0;
  for (;;) {
    const numbered = await withTransaction(sql, async (tx) => {
      const [lock] = await tx<{ locked: boolean }[]>`
        select pg_try_advisory_xact_lock(${SEQUENCER_LOCK_NAMESPACE}::int4, 0) as locked`;
      if (!lock?.locked) return 0;
      return assignEventSequences(tx, BATCH);
    });
    total += numbered;
    if (numbered < BATCH) return total;
  }
}

export interface EventSequencer extends Periodic {
  /** Asks for a pass soon, without waiting for it; passes never overlap. */
  nudge(): void;
}

/**
 * Runs the sequencer every `intervalMs` in this process, and sooner when
 * nudged (after a batch of transfers settles). Failures are logged and the
 * next pass tries again: events stay queued in PostgreSQL meanwhile.
 */
export function startEventSequencer(sql: Sql, logger: Logger, intervalMs: number): EventSequencer {
  let running: Promise<void> | undefined;
  let again = false;

  const pass = async (): Promise<void> => {
    try {
      await sequenceEvents(sql);
    } catch (error) {
      logger.warn({ err: error }, 'event sequencing failed; will retry');
    }
  };
  const nudge = () => {
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        nudge();
      }
    });
  };
  const periodic = runPeriodically(intervalMs, pass);
  return {
    nudge,
    async stop() {
      await periodic.stop();
      again = false;
      await running;
    },
  };
}
