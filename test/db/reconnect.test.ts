import { expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { TEST_DATABASE_URL } from '../support/env.js';
import { startTcpRelay } from '../support/tcp-relay.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// After PostgreSQL has refused a pool's connections for a while, the pool
// must connect again soon after PostgreSQL answers. Left to postgres.js, the
// wait between attempts grows to as much as 20 s, and every query meanwhile
// fails at once with the last error: a process would go on failing long
// after the outage ended.
it('connects again within about two seconds of PostgreSQL answering', async () => {
  const target = Number(new URL(TEST_DATABASE_URL).port || 5432);
  const first = await startTcpRelay(target);
  const url = new URL(first.through(TEST_DATABASE_URL));
  url.pathname = '/postgres';
  await first.close();
  const sql = createSql({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: 2 });
  try {
    const refusedUntil = Date.now() + 12_000;
    while (Date.now() < refusedUntil) {
      await expect(sql`select 1`).rejects.toThrow();
      await pause(100);
    }
    const relay = await startTcpRelay(target, first.port);
    const back = Date.now();
    try {
      for (;;) {
        const answered = await sql`select 1`.then(
          () => true,
          () => false,
        );
        if (answered) break;
        expect(Date.now() - back).toBeLessThan(3_000);
        await pause(50);
      }
    } finally {
      await relay.close();
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}, 30_000);
