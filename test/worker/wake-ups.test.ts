import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/sql.js';
import { transferQueueName } from '../../src/queue/partitions.js';
import { retryDelayMs } from '../../src/queue/transfer-queues.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { gate } from '../support/gate.js';
import { watchWrites } from '../support/redis-writes.js';
import {
  captureLogger,
  createAccount,
  enqueueAll,
  healthyLedger,
  insertPendingTransfers,
  type LogRecord,
  ledgerReport,
  newTenant,
  statuses,
  waitForFinal,
  waitUntil,
} from './fixtures.js';
import { transientError, useWorkerDatabase } from './support.js';

const scratch = useWorkerDatabase();
const config = scratch.config;
let sql: Sql;
beforeAll(() => {
  sql = scratch.sql;
});

describe('jobs as wake-up calls of their partition', () => {
  it('keeps one job waiting for a partition, however many transfers are added', async () => {
    const cfg = config();
    const producer = scratch.producerFor(cfg);
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(sql, tenantId);
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 30 }, () => ({ source: bank, destination: alice, amount: 1n })),
    );
    const partition = transfers[0]?.partition ?? 0;

    await enqueueAll(producer.queues, transfers);
    expect(await producer.queues.queue(partition).getJobCounts('wait')).toEqual({ wait: 1 });

    await scratch.workersFor(cfg, { sweeper: false });
    expect(await waitForFinal(sql, tenantId)).toEqual({ pending: 0, posted: 30, failed: 0 });
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(30));
  });

  /** A tenant with a funded bank account, another account, and one pending transfer between. */
  async function oneTransferAccepted(overrides: Record<string, string> = {}) {
    const cfg = config(overrides);
    const producer = scratch.producerFor(cfg);
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(sql, tenantId);
    const [first] = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: bank, destination: alice, amount: 1n },
    ]);
    if (!first) throw new Error('no transfer');
    return { cfg, producer, tenantId, bank, alice, first };
  }

  /**
   * One transfer, a job for it, and ten more transfers accepted while that
   * job's run is held just after its look number `heldAfterLook`; resolves
   * to the 'transfer job' lines of the run and of the job queued behind it,
   * once all eleven are final and the ledger has been checked. `idleMs` is
   * how long a run looks again after a batch found nothing.
   */
  async function acceptWhileRunHeld(heldAfterLook: number, idleMs = 0): Promise<LogRecord[]> {
    const { cfg, producer, tenantId, bank, alice, first } = await oneTransferAccepted({
      APPLY_IDLE_MS: String(idleMs),
    });

    const released = gate();
    const held = gate();
    let looks = 0;
    const { logger, records } = captureLogger();
    await scratch.workersFor(cfg, {
      sweeper: false,
      logger,
      apply: async (db, partition, batchSize) => {
        const result = await applyPendingBatch(db, partition, batchSize);
        looks += 1;
        if (looks === heldAfterLook) {
          held.open();
          await released.opened;
        }
        return result;
      },
    });
    await enqueueAll(producer.queues, [first]);
    await held.opened;

    const later = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 10 }, () => ({ source: bank, destination: alice, amount: 1n })),
    );
    await enqueueAll(producer.queues, later);
    const queue = producer.queues.queue(first.partition);
    expect(await queue.getJobCounts('active', 'wait')).toEqual({ active: 1, wait: 0 });
    expect(await statuses(sql, [first.id])).toEqual(['posted']);
    released.open();

    await waitForFinal(sql, tenantId);
    await waitUntil('both jobs logged', async () =>
      Promise.resolve(records.filter((record) => record.msg === 'transfer job').length >= 2),
    );
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(11));
    return records.filter((record) => record.msg === 'transfer job');
  }

  it('applies what was accepted while a job ran with the job queued behind it', async () => {
    // No idle looks (APPLY_IDLE_MS 0): held after its second look, which found
    // nothing, the run is over, and what is accepted now is left to the job
    // behind it.
    const jobs = await acceptWhileRunHeld(2);
    expect(jobs.map((record) => record.applied)).toEqual([1, 10]);
  });

  it('keeps an idle run looking for a while, and applies what arrives then itself', async () => {
    // Held after its second look, which found nothing; the run looks again
    // once released, within APPLY_IDLE_MS, and takes the later transfers.
    const jobs = await acceptWhileRunHeld(2, 1_000);
    expect(jobs.map((record) => record.applied)).toEqual([11, 0]);
  });

  it('keeps a run going while its batches find transfers accepted during it', async () => {
    // Held after its first batch: the run takes the later transfers in its
    // next one, and the job queued behind it by their adds finds nothing.
    const jobs = await acceptWhileRunHeld(1);
    expect(jobs.map((record) => record.applied)).toEqual([11, 0]);
    expect(jobs.map((record) => record.batches)).toEqual([3, 1]);
  });

  it('ends a run that keeps finding work after about a second, at a short batch', async () => {
    const { cfg, producer, tenantId, first } = await oneTransferAccepted();

    // After the real batch, every look reports one more settled transfer, as a
    // partition under steady load would: the run never finds it empty.
    const { logger, records } = captureLogger();
    let looks = 0;
    await scratch.workersFor(cfg, {
      sweeper: false,
      logger,
      apply: async (db, partition, batchSize) => {
        looks += 1;
        if (looks === 1) return applyPendingBatch(db, partition, batchSize);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const settled = [{ id: `tr_busy${looks}`, tenantId, status: 'posted' as const }];
        return { settled, posted: 1, failed: 0, deferred: 0 };
      },
    });
    await enqueueAll(producer.queues, [first]);

    await waitUntil('the run logged', async () =>
      Promise.resolve(records.some((record) => record.msg === 'transfer job')),
    );
    const [job] = records.filter((record) => record.msg === 'transfer job');
    expect(job?.outcome).toBe('posted');
    // The budget is kept on the wall clock, in whole milliseconds; the logged
    // duration comes from the monotonic clock and can be short of it by one.
    expect(job?.durationMs).toBeGreaterThanOrEqual(999);
    expect(job?.durationMs).toBeLessThan(5_000);
    expect(job?.batches).toBeGreaterThan(10);
  });

  it('doubles the wait between attempts up to a cap', () => {
    const limits = { JOB_BACKOFF_MS: 500, JOB_BACKOFF_MAX_MS: 10_000 };
    const waits = [1, 2, 3, 4, 5, 6, 25, 1_000].map((made) => retryDelayMs(made, limits));
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });

  it('retries a failing partition at capped intervals, transfers queued behind it', async () => {
    const cfg = config({ JOB_BACKOFF_MS: '50', JOB_BACKOFF_MAX_MS: '100' });
    const producer = scratch.producerFor(cfg);
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(sql, tenantId);
    let failures = 0;
    await scratch.workersFor(cfg, {
      sweeper: false,
      apply: async (db, partition, batchSize) => {
        // An outage of six attempts: doubling from 50 ms without a cap would wait 3.15 s.
        if (failures < 6) {
          failures += 1;
          throw transientError();
        }
        return applyPendingBatch(db, partition, batchSize);
      },
    });
    const started = Date.now();
    const first = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: bank, destination: alice, amount: 1n },
    ]);
    await enqueueAll(producer.queues, first);
    await waitUntil('the job has failed twice', async () => Promise.resolve(failures >= 2));
    const later = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 5 }, () => ({ source: bank, destination: alice, amount: 1n })),
    );
    await enqueueAll(producer.queues, later);

    await waitForFinal(sql, tenantId);
    expect(failures).toBe(6);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(6));
  });

  /** Pending transfers from two sources of different partitions, three from the first. */
  async function twoPartitionsAccepted() {
    const cfg = config();
    const producer = scratch.producerFor(cfg);
    const tenantId = await newTenant(sql);
    const alice = await createAccount(sql, tenantId);
    const one = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    let other = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const [probe] = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: one, destination: alice, amount: 1n },
    ]);
    if (!probe) throw new Error('no transfer');
    for (;;) {
      const [candidate] = await insertPendingTransfers(sql, cfg, tenantId, [
        { source: other, destination: alice, amount: 1n },
      ]);
      if (candidate && candidate.partition !== probe.partition) {
        const more = await insertPendingTransfers(sql, cfg, tenantId, [
          { source: one, destination: alice, amount: 1n },
          { source: one, destination: alice, amount: 1n },
        ]);
        return { cfg, producer, tenantId, first: [probe, ...more], second: candidate };
      }
      // Same partition by chance: that transfer stays, and another source is tried.
      other = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    }
  }

  it('wakes each partition named in a turn once, with the job of its first transfer', async () => {
    const { cfg, producer, tenantId, first, second } = await twoPartitionsAccepted();
    const partition = first[0]?.partition ?? -1;
    const wakes = [...first, second].map((transfer) =>
      producer.queues.wake(transfer.partition, { transferId: transfer.id, tenantId }),
    );
    await Promise.all(wakes);

    const firstQueue = producer.queues.queue(partition);
    expect(await firstQueue.getJobCounts('wait')).toEqual({ wait: 1 });
    const [job] = await firstQueue.getJobs(['wait']);
    expect(job?.id).toBe(first[0]?.id);
    expect(await producer.queues.queue(second.partition).getJobCounts('wait')).toEqual({
      wait: 1,
    });

    // Every transfer is in one of the two partitions, so the two jobs settle them all.
    await scratch.workersFor(cfg, { sweeper: false });
    const final = await waitForFinal(sql, tenantId);
    expect(final.pending).toBe(0);
    expect(final.posted).toBeGreaterThanOrEqual(4);
  });

  it('sends the wake-ups of turns a moment apart in one write, without a pipeline', async () => {
    const { producer, tenantId, first, second } = await twoPartitionsAccepted();
    const [earlier] = first;
    if (!earlier) throw new Error('no transfer in the first partition');
    // The queues share the producer's connection; BullMQ's scripts are
    // defined on it before the round starts.
    await producer.queues.queue(earlier.partition).getBackend().client;
    const watch = watchWrites(producer.redis);
    try {
      const one = producer.queues.wake(earlier.partition, { transferId: earlier.id, tenantId });
      await new Promise((resolve) => setImmediate(resolve));
      const two = producer.queues.wake(second.partition, { transferId: second.id, tenantId });
      await Promise.all([one, two]);
    } finally {
      watch.restore();
    }

    expect(watch.counts).toEqual({ writes: 1, pipelines: 0 });
    for (const partition of [earlier.partition, second.partition]) {
      expect(await producer.queues.queue(partition).getJobCounts('wait')).toEqual({ wait: 1 });
    }
  });

  it('fails only the wake-ups of a partition whose add failed', async () => {
    const { cfg, producer, tenantId, first, second } = await twoPartitionsAccepted();
    const partition = first[0]?.partition ?? -1;
    // A wait list that is not a list: adding to that queue fails inside Redis.
    const broken = `${cfg.REDIS_PREFIX}:${transferQueueName(partition)}:wait`;
    await producer.redis.set(broken, 'not a list');
    try {
      const outcomes = await Promise.allSettled(
        [...first, second].map((transfer) =>
          producer.queues.wake(transfer.partition, { transferId: transfer.id, tenantId }),
        ),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'rejected',
        'rejected',
        'rejected',
        'fulfilled',
      ]);
      expect(await producer.queues.queue(second.partition).getJobCounts('wait')).toEqual({
        wait: 1,
      });
    } finally {
      await producer.redis.del(broken);
    }
  });

  it('fails only the wake-up whose job BullMQ refuses before sending it', async () => {
    const { producer, tenantId, first, second } = await twoPartitionsAccepted();
    const partition = first[0]?.partition ?? -1;
    // BullMQ refuses a job id made of digits alone when the job is built.
    const outcomes = await Promise.allSettled([
      producer.queues.wake(partition, { transferId: '12345', tenantId }),
      producer.queues.wake(second.partition, { transferId: second.id, tenantId }),
    ]);
    expect(outcomes[0]).toMatchObject({ status: 'rejected' });
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/integer/);
    expect(outcomes[1]).toMatchObject({ status: 'fulfilled' });
    expect(await producer.queues.queue(second.partition).getJobCounts('wait')).toEqual({
      wait: 1,
    });
  });
});
