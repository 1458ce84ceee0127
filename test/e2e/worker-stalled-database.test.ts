import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { configEnv } from '../support/env.js';
import { type Child, startChild, stopChild } from '../support/processes.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import {
  createAccounts,
  enqueueAll,
  insertPendingTransfers,
  newTenant,
  waitForFinal,
} from '../worker/fixtures.js';
import { useWorkerDatabase } from '../worker/support.js';

const db = useWorkerDatabase({ TRANSFER_JOB_LOCK_MS: '2000' });
let relay: TcpRelay | undefined;
let worker: Child | undefined;

afterAll(async () => {
  if (worker) await stopChild(worker, 2_000);
  await relay?.close();
});

describe('a worker whose PostgreSQL stops answering', () => {
  it('exits, so that its partitions go to other workers', async () => {
    const config = db.config();
    relay = await startTcpRelay(Number(new URL(config.DATABASE_URL).port || 5432));
    worker = startChild('worker', 'workers/transfers.ts', {
      ...configEnv(config),
      DATABASE_URL: relay.through(config.DATABASE_URL),
      DATABASE_STALL_MS: '2000',
      LOG_LEVEL: 'warn',
    });

    const tenantId = await newTenant(db.sql);
    const accounts = await createAccounts(db.sql, tenantId, 8, 1_000n);
    const specs = (count: number) =>
      Array.from({ length: count }, (_, i) => ({
        source: accounts[i % accounts.length] ?? '',
        destination: accounts[(i + 1) % accounts.length] ?? '',
        amount: 1n,
      }));
    const producer = db.producerFor(config);
    await enqueueAll(
      producer.queues,
      await insertPendingTransfers(db.sql, config, tenantId, specs(8)),
    );
    // The worker is connected and working through the relay.
    expect((await waitForFinal(db.sql, tenantId, 30_000)).posted).toBe(8);

    relay.swallow();
    const stuck = await insertPendingTransfers(db.sql, config, tenantId, specs(8));
    await enqueueAll(producer.queues, stuck);
    expect(await worker.exited).toBe(1);
    expect(await readFile(worker.logPath, 'utf8')).toContain(
      'PostgreSQL has not answered a transfer job: worker exiting',
    );

    // Nothing it held stays held: another worker applies what it left.
    await db.workersFor(config);
    expect((await waitForFinal(db.sql, tenantId, 30_000)).posted).toBe(16);
  }, 90_000);
});
