import { describe, expect, it } from 'vitest';
import type { LoadRun } from '../../src/bench/scenario.js';
import { evaluateTargets } from '../../src/bench/targets.js';
import { appliedSince, describeShares } from '../../src/bench/worker-shares.js';

const line = (time: string, fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time, process: 'worker', ...fields });

describe("a drain's share of each worker process", () => {
  it('sums the transfers of the job lines written from the drain on', () => {
    const log = [
      line('2026-12-05T10:00:00.000Z', { msg: 'transfer job', applied: 500 }),
      line('2026-12-05T10:00:02.000Z', { msg: 'transfer job', applied: 120 }),
      line('2026-12-05T10:00:03.000Z', { msg: 'worker started' }),
      'not json "transfer job"',
      line('2026-12-05T10:00:04.000Z', { msg: 'transfer job', outcome: 'retry' }),
      line('2026-12-05T10:00:05.000Z', { msg: 'transfer job', applied: 7 }),
    ].join('\n');
    expect(appliedSince(log, Date.parse('2026-12-05T10:00:01.000Z'))).toBe(127);
    expect(describeShares([{ name: 'worker-1', applied: 18_101 }])).toBe('worker-1 18,101');
  });

  it('misses the scaling target when the added process settled nothing', () => {
    const drain = (settled: number, shares: LoadRun['workerShares']) =>
      ({
        settledPerSecond: settled,
        workers: shares?.length ?? 1,
        workerShares: shares,
      }) as LoadRun;
    const scaling = (after: LoadRun) => {
      const [target] = evaluateTargets({
        sqlBaselines: [],
        queueBaselines: [],
        runs: [],
        scaling: { before: drain(1_000, undefined), after, verdict: 'PostgreSQL' },
        webPeakRssMb: 0,
      }).filter((candidate) => candidate.name.startsWith('another worker'));
      return target;
    };

    const idle = scaling(
      drain(1_200, [
        { name: 'worker-1', applied: 9_000 },
        { name: 'worker-2', applied: 0 },
      ]),
    );
    expect(idle?.met).toBe(false);
    expect(idle?.measured).toContain('worker-2 settled none');

    const shared = scaling(
      drain(1_200, [
        { name: 'worker-1', applied: 5_000 },
        { name: 'worker-2', applied: 4_000 },
      ]),
    );
    expect(shared?.met).toBe(true);
    expect(shared?.name).toBe(
      'another worker process raises settled/s (1 -> 2) by more than 1.05x',
    );

    const even = (settled: number) =>
      scaling(
        drain(settled, [
          { name: 'worker-1', applied: 5_000 },
          { name: 'worker-2', applied: 5_000 },
        ]),
      )?.met;
    expect(even(1_050)).toBe(false);
    expect(even(1_051)).toBe(true);
  });
});
