import { expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { startEventSequencer } from '../../src/services/event-sequencer.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { captureLogger, waitUntil } from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

// The sequencer runs every EVENT_SEQUENCER_INTERVAL_MS (200 ms by default)
// in every worker process. While PostgreSQL refuses it, a line with a stack
// per pass filled a worker's log (765 lines in two and a half minutes, in a
// trial): an outage must log its first failure, then few lines, and one
// when sequencing works again.
it('logs an outage of the sequencer once, and its end', async () => {
  const target = Number(new URL(db.config().DATABASE_URL).port || 5432);
  const first = await startTcpRelay(target);
  const url = first.through(db.config().DATABASE_URL);
  await first.close();
  const sql = createSql({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
  const { logger, records } = captureLogger();
  const sequencer = startEventSequencer(sql, logger, 20);
  let relay: TcpRelay | undefined;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const failures = records.filter((r) => r.msg === 'event sequencing failed; will retry');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.level).toBe(40);

    relay = await startTcpRelay(target, first.port);
    await waitUntil('the sequencer says it works again', async () =>
      records.some((r) => r.msg === 'event sequencing works again'),
    );
    const back = records.find((r) => r.msg === 'event sequencing works again');
    expect(Number(back?.errors)).toBeGreaterThan(10);
  } finally {
    await sequencer.stop();
    await relay?.close();
    await sql.end({ timeout: 1 });
  }
});
