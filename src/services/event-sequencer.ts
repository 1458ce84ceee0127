import { assignEventSequences } from '../data/events.js';
import { isTransientError, type Sql, withTwoStatements } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import { type Periodic, runPeriodically } from '../lib/periodic.js';
import type { Logger } from '../logger.js';

/** First key of the sequencer's advisory lock; the second is always 0. */
const SEQUENCER_LOCK_NAMESPACE = 727_366_201;
const BATCH = 1_000;

/**
 * Gives queued events their per-tenant sequence numbers. One sequencer acts
 * at a time across all processes (an advisory lock held to commit); another
 * that finds the lock taken returns at once, since the holder numbers what
 * is queued and the next pass takes what came later. Each transaction is two
 * round trips: BEGIN with the lock, COMMIT with the numbering. Returns how
 * many events this call numbered.
 */
export async function sequenceEvents(sql: Sql): Promise<number> {
  let total = 0;
  for (;;) {
    const { second } = await withTwoStatements(
      sql,
      (db) => db<{ locked: boolean }[]>`
        select pg_try_advisory_xact_lock(${SEQUENCER_LOCK_NAMESPACE}::int4, 0) as locked`,
      ([lock], db) => (lock?.locked ? assignEventSequences(db, BATCH) : null),
    );
    total += Number(second?.[0]?.numbered ?? 0);
    if (Number(second?.[0]?.taken ?? 0) < BATCH) return total;
  }
}

export interface EventSequencer extends Periodic {
  /** Asks for a pass soon, without waiting for it; passes never overlap. */
  nudge(): void;
}

/**
 * Passes asked for by nudges start at least this long after the previous one
 * started: under load a pass then numbers the events of many batches at once
 * instead of one transaction per batch, for at most this much more delay.
 */
const NUDGE_GAP_MS = 20;

/**
 * Runs the sequencer every `intervalMs` in this process, and sooner when
 * nudged (after a batch of transfers settles), but not more often than one
 * pass per `NUDGE_GAP_MS`. Failures are logged and the next pass tries again:
 * events stay queued in PostgreSQL meanwhile.
 */
export function startEventSequencer(sql: Sql, logger: Logger, intervalMs: number): EventSequencer {
  let running: Promise<void> | undefined;
  let waiting: NodeJS.Timeout | undefined;
  let again = false;
  let lastStart = 0;

  // An outage passes by itself: its first failure is logged, then a line
  // every ERROR_LOG_INTERVAL_MS at most, and one when a pass works again.
  const outage = errorLog(logger, {}, 'event sequencing failed; will retry');
  const pass = async (): Promise<void> => {
    try {
      await sequenceEvents(sql);
    } catch (error) {
      // Any other failure stops the feed of every tenant until a person looks.
      if (isTransientError(error)) outage.report(error);
      else logger.error({ err: error }, 'event sequencing failed; will retry');
      return;
    }
    const errors = outage.reset();
    if (errors > 0) logger.info({ errors }, 'event sequencing works again');
  };
  const start = () => {
    waiting = undefined;
    lastStart = Date.now();
    running = pass().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        nudge();
      }
    });
  };
  const nudge = () => {
    if (waiting) return;
    if (running) {
      again = true;
      return;
    }
    const wait = lastStart + NUDGE_GAP_MS - Date.now();
    if (wait <= 0) start();
    else waiting = setTimeout(start, wait);
  };
  const periodic = runPeriodically(intervalMs, pass);
  return {
    nudge,
    async stop() {
      await periodic.stop();
      clearTimeout(waiting);
      waiting = undefined;
      again = false;
      await running;
    },
  };
}
