import { describe, expect, it } from 'vitest';
import { walSegmentEffect } from '../../src/bench/wal-segments.js';

describe('answers set apart by the WAL segments created meanwhile', () => {
  it('splits the answers by the second they arrived in', () => {
    // Two files created in second 3, one in second 7; answers every 0.01 s
    // for 10 s, slow (50 ms) in seconds 3 and 7, fast (5 ms) elsewhere.
    const doneAt = Array.from({ length: 1_000 }, (_, i) => i / 100);
    const latencyMs = doneAt.map((t) => (Math.floor(t) === 3 || Math.floor(t) === 7 ? 50 : 5));
    const effect = walSegmentEffect([3.2, 3.9, 7.5], doneAt, latencyMs);
    expect(effect).toEqual({ created: 3, seconds: 2, p99Within: 50, p99Elsewhere: 5 });
  });

  it('answers zeros for a run in which no file was created', () => {
    const effect = walSegmentEffect([], [0.5, 1.5], [4, 6]);
    expect(effect).toEqual({ created: 0, seconds: 0, p99Within: 0, p99Elsewhere: 6 });
  });
});
