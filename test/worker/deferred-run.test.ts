import { describe, expect, it } from 'vitest';
import { applyPendingBatch, type BatchResult } from '../../src/services/apply-transfers.js';
import { processTransferJob } from '../../src/worker/process-transfer-job.js';
import { createAccount, insertPendingTransfers, newTenant } from './fixtures.js';
import { silentLogger, useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

describe('a run whose batch deferred a transfer', () => {
  // The first look comes back, past the run's one-second budget, with
  // nothing settled and the job's own transfer deferred (another
  // transaction held an account). Ending the run there would leave the
  // transfer pending with no job to apply it: the run must go on.
  it('goes on past its budget until the deferred transfer is settled', async () => {
    const config = db.config();
    const tenantId = await newTenant(db.sql);
    const bank = await createAccount(db.sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(db.sql, tenantId);
    const [own] = await insertPendingTransfers(db.sql, config, tenantId, [
      { source: bank, destination: alice, amount: 5n },
    ]);
    if (!own) throw new Error('no transfer');

    let looks = 0;
    const result = await processTransferJob(
      {
        config,
        sql: db.sql,
        publishSettled: async () => undefined,
        logger: silentLogger,
        stopping: () => false,
        watch: (step) => step,
        apply: async (sql, partition, batchSize): Promise<BatchResult> => {
          looks += 1;
          if (looks > 1) return applyPendingBatch(sql, partition, batchSize);
          await new Promise((resolve) => setTimeout(resolve, 1_100));
          return { settled: [], posted: 0, failed: 0, deferred: 1 };
        },
      },
      own.partition,
      { transferId: own.id, tenantId },
    );
    expect(result.outcome).toBe('posted');
    expect(looks).toBeGreaterThan(1);
  });
});
