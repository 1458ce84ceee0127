import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { Coalescer } from '../lib/coalescer.js';
import { isTransientError } from '../lib/errors.js';
import {
  type ApplyBatch,
  applyPendingBatch,
  applyPendingPartitions,
  type BatchResult,
} from '../services/apply-transfers.js';

type Outcome = { result: BatchResult } | { error: unknown };

const NOTHING: BatchResult = { settled: [], posted: 0, failed: 0, deferred: 0 };

/**
 * The apply step of one worker process. The partitions whose jobs run at the
 * same time are applied together: while `APPLY_TRANSACTIONS` transactions
 * run, the partitions asking meanwhile wait and then share the next one (see
 * `applyPendingPartitions`), so a busy process commits once for many
 * partitions and its transactions do not queue on each other's account rows.
 * A job that finds the step idle waits `APPLY_LINGER_MS` for others first,
 * unless its partition's last batch was full: more of its transfers are then
 * likely waiting, and one busy partition alone would otherwise be held to a
 * batch per linger.
 *
 * A transaction that fails with an error that is not transient (a bug that
 * one transfer exposes) is tried again for each of its partitions alone, so
 * that the error holds up only the partition it belongs to. Every answer
 * uses the pool and batch size the applier was made with.
 */
export function createPartitionApplier(
  sql: Sql,
  config: Pick<
    Config,
    'APPLY_BATCH_SIZE' | 'APPLY_TRANSACTIONS' | 'APPLY_LINGER_MS' | 'PARTITIONS'
  >,
): ApplyBatch {
  const batchSize = config.APPLY_BATCH_SIZE;
  const round = async (partitions: number[]): Promise<Outcome[]> => {
    try {
      const results = await applyPendingPartitions(sql, partitions, batchSize);
      return partitions.map((partition) => ({ result: results.get(partition) ?? NOTHING }));
    } catch (error) {
      const distinct = [...new Set(partitions)];
      if (distinct.length === 1 || isTransientError(error))
        return partitions.map(() => ({ error }));
      const alone = new Map<number, Outcome>();
      for (const partition of distinct) {
        alone.set(partition, await applyAlone(sql, partition, batchSize));
      }
      return partitions.map((partition) => alone.get(partition) ?? { error });
    }
  };
  const coalescer = new Coalescer(round, {
    maxBatch: config.PARTITIONS,
    maxInFlight: config.APPLY_TRANSACTIONS,
    lingerMs: config.APPLY_LINGER_MS,
  });

  // Partitions whose last batch read `batchSize` pending transfers, settled or
  // deferred: at least that many were waiting, so company adds nothing to the
  // next transaction. A failed batch tells nothing and clears the mark.
  const backlogged = new Set<number>();

  return async (_sql, partition) => {
    const outcome = await coalescer.submit(partition, { now: backlogged.has(partition) });
    if ('error' in outcome) {
      backlogged.delete(partition);
      throw outcome.error;
    }
    const { settled, deferred } = outcome.result;
    if (settled.length + deferred >= batchSize) backlogged.add(partition);
    else backlogged.delete(partition);
    return outcome.result;
  };
}

async function applyAlone(sql: Sql, partition: number, batchSize: number): Promise<Outcome> {
  try {
    return { result: await applyPendingBatch(sql, partition, batchSize) };
  } catch (error) {
    return { error };
  }
}
