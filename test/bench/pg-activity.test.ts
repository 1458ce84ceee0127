import { afterAll, describe, expect, it } from 'vitest';
import { PgActivity, type WaitSample } from '../../src/bench/pg-activity.js';
import { checkpointLine } from '../../src/bench/report-table.js';
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

function sampleAt(t: number, checkpoints: number, fullPageImages: number): WaitSample {
  return { t, active: {}, checkpoints, fullPageImages };
}

describe('the checkpoints near a load run', () => {
  it('places each checkpoint begun from 10 s before the load to its end, and counts images', () => {
    const activity = new PgActivity(sql, 'unused');
    activity.samples.push(
      sampleAt(1, 4, 100), // long before the load: not near it
      sampleAt(5, 5, 150),
      sampleAt(20, 6, 900), // 5 s before the load
      sampleAt(25, 6, 1_000), // the load starts
      sampleAt(30, 8, 4_000), // two begun at once
      sampleAt(35, 8, 4_600), // the load ends
      sampleAt(40, 9, 5_000), // after it
    );

    expect(activity.checkpointEffect(25, 35)).toEqual({
      begunAt: [-5, 5, 5],
      fullPageImages: 3_600,
    });
    expect(checkpointLine(activity.checkpointEffect(25, 35))).toBe(
      "\n    checkpoint begun at -5.0 s, +5.0 s, +5.0 s from the load's start; " +
        '3,600 full-page images written',
    );
    // Begun 6 s before a later load, and nothing written under it.
    expect(activity.checkpointEffect(36, 39)).toEqual({ begunAt: [-6, -6], fullPageImages: 0 });
    expect(activity.checkpointEffect(60, 70)).toEqual({ begunAt: [], fullPageImages: 0 });
    expect(checkpointLine({ begunAt: [-0.02, 0.04], fullPageImages: 0 })).toContain(
      'begun at +0.0 s, +0.0 s from',
    );
    expect(checkpointLine({ begunAt: [], fullPageImages: 12 })).toBe(
      '\n    no checkpoint began from 10 s before the load; 12 full-page images written',
    );
  });

  it('counts WAL segment files created as the rises of the directory between samples', () => {
    const activity = new PgActivity(sql, 'unused');
    activity.samples.push(
      { ...sampleAt(1, 0, 0), walFiles: 5 },
      sampleAt(2, 0, 0), // the directory could not be listed
      { ...sampleAt(3, 0, 0), walFiles: 7 },
      { ...sampleAt(4, 0, 0), walFiles: 6 }, // a checkpoint removed one
      { ...sampleAt(5, 0, 0), walFiles: 8 },
    );
    expect(activity.walFilesCreated(0, 10)).toEqual([3, 3, 5, 5]);
    expect(activity.walFilesCreated(4, 10)).toEqual([5, 5]);
  });

  it("reads the server's counters: a checkpoint asked for is counted when it begins", async () => {
    const [database] = await sql<{ name: string }[]>`select current_database() as name`;
    const activity = new PgActivity(sql, database?.name ?? '');
    await activity.sample();
    const first = activity.samples[0];
    if (!first) throw new Error('no sample');
    expect(Number.isFinite(first.checkpoints) && Number.isFinite(first.fullPageImages)).toBe(true);

    await sql`checkpoint`;
    const deadline = Date.now() + 5_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await activity.sample();
    } while (activity.samples.at(-1)?.checkpoints === first.checkpoints && Date.now() < deadline);

    const effect = activity.checkpointEffect(first.t, activity.samples.at(-1)?.t ?? first.t);
    expect(effect.begunAt.length).toBeGreaterThanOrEqual(1);
  });
});
