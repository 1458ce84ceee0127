import { describe, expect, it } from 'vitest';
import { probesFor } from '../../src/demo/probes.js';
import { MIN_REPLAY_SHARE } from '../../src/demo/replay-checks.js';
import { percentile } from '../../src/demo/replay-stats.js';

describe('probesFor', () => {
  it('resubmits at least 5% of movements and reuses at least one key', () => {
    const lines = Array.from({ length: 5_347 }, (_, i) => i + 2);
    const probes = lines.map((line) => probesFor({ line }));

    const replays = probes.filter((p) => p.replayEarly || p.replayLate).length;
    expect(replays / lines.length).toBeGreaterThanOrEqual(MIN_REPLAY_SHARE);
    expect(probes.some((p) => p.reuseChanged)).toBe(true);
    expect(probes.some((p) => p.race)).toBe(true);
  });

  it('chooses the same movements on every run', () => {
    expect(probesFor({ line: 32 })).toEqual(probesFor({ line: 32 }));
    expect(probesFor({ line: 32 }).replayEarly).toBe(true);
    expect(probesFor({ line: 48 }).replayLate).toBe(true);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);

    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
