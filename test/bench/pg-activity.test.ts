import { afterAll, expect, it } from 'vitest';
import { PgActivity } from '../../src/bench/pg-activity.js';
import { createSql } from '../../src/db/sql.js';
import { TEST_DATABASE_URL } from '../support/env.js';

const sql = createSql({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_POOL_SIZE: 2 });
afterAll(() => sql.end({ timeout: 5 }));

// The CPU the benchmark reports as PostgreSQL's is that of the processes
// this lists. The WAL writer and the checkpointer work for every commit;
// left out, their CPU showed as other work on the host.
it("lists the server's WAL writer and checkpointer with the database's sessions", async () => {
  const [database] = await sql<{ name: string }[]>`select current_database() as name`;
  const shared = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where backend_type in ('walwriter', 'checkpointer')`;
  const activity = new PgActivity(sql, database?.name ?? '');

  await activity.sample();

  expect(shared).toHaveLength(2);
  expect(activity.pids).toEqual(expect.arrayContaining(shared.map((row) => row.pid)));
});
