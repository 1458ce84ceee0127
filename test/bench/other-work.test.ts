import { describe, expect, it } from 'vitest';
import { OTHER_WORK_LIMIT, otherWork } from '../../src/bench/report-table.js';
import type { LoadRun } from '../../src/bench/scenario.js';

/** A load run with only what the check reads: its label and the CPU outside the product. */
function run(label: string, otherCores: number | undefined): LoadRun {
  const processes =
    otherCores === undefined ? {} : { other: { cpuMean: otherCores, cpuMax: 0, rssMaxMb: 0 } };
  return { spec: { label }, processes } as unknown as LoadRun;
}

describe('runs during which other work used the host', () => {
  it('names each run whose CPU outside the watched processes reached the limit', () => {
    const lines = otherWork([
      run('uniform closed', 0.16),
      run('uniform open 1026/s', 0.46),
      run('hot-source closed', 0.07),
      run('hot-source open 1306/s', undefined),
    ]);
    expect(lines).toEqual([
      'Other work on the host used CPU during uniform closed (0.16 cores), ' +
        "uniform open 1026/s (0.46 cores): the figures of those runs are not the product's alone",
    ]);
  });

  it('says nothing when every run stayed under the limit', () => {
    expect(otherWork([run('uniform closed', OTHER_WORK_LIMIT - 0.01), run('drain', 0)])).toEqual(
      [],
    );
  });
});
