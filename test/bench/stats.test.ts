import { describe, expect, it } from 'vitest';
import { emptyLoadResult } from '../../src/bench/load.js';
import { summarizeLoad } from '../../src/bench/stats.js';

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
