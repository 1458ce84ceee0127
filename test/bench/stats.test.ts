import { describe, expect, it } from 'vitest';
import { emptyLoadResult } from '../../src/bench/load.js';
import { acceptedBySecond, addLoadSeries, summarizeLoad } from '../../src/bench/stats.js';
import { Timeline } from '../../src/bench/timeline.js';

describe('load summary', () => {
  it('counts requests that got no answer, errors and timeouts alike, apart from the 202s', () => {
    const load = {
      ...emptyLoadResult(),
      doneAt: [1, 2, 3],
      latencyMs: [5, 7, 9],
      status: [202, 409, 202],
      errors: 2,
      timeouts: 3,
    };
    const summary = summarizeLoad(load);
    expect(summary.accepted).toBe(2);
    expect(summary.rejected).toEqual({ '409': 1, 'no answer': 5 });
    expect(summary.acceptedPerSecond).toBe(1);
  });
});

describe('answers by second', () => {
  // Out of order, with a refusal in second 1 that must not count.
  const load = {
    ...emptyLoadResult(),
    doneAt: [2.7, 1.1, 1.5, 2.2, 1.9],
    latencyMs: [30, 4, 6, 10, 500],
    status: [202, 202, 202, 202, 409],
  };

  it("groups the 202 answers' latencies by the second they arrived in, in order", () => {
    expect(acceptedBySecond(load)).toEqual([
      [1, [4, 6]],
      [2, [30, 10]],
    ]);
  });

  it('puts each second in the timeline at its middle', () => {
    const timeline = new Timeline();
    addLoadSeries(timeline, load);
    expect(timeline.points('accepted')).toEqual([
      { t: 1.5, v: 2 },
      { t: 2.5, v: 2 },
    ]);
    expect(timeline.points('latency-p99')).toEqual([
      { t: 1.5, v: 6 },
      { t: 2.5, v: 30 },
    ]);
  });
});
