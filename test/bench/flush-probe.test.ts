import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLUSH_SERIES, FlushProbe, flushEffect } from '../../src/bench/flush-probe.js';
import { slowSecondText } from '../../src/bench/report-table.js';
import { Timeline } from '../../src/bench/timeline.js';

describe('the disk flush probe', () => {
  let dir = '';

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports its slowest flush per quarter second, then stops and removes its file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fintech-core-flush-'));
    const timeline = new Timeline();
    const file = join(dir, 'flush-probe');
    const probe = new FlushProbe(file, timeline);
    // A window is reported once the next begins; a slow disk may take a while.
    const deadline = Date.now() + 10_000;
    while (timeline.points(FLUSH_SERIES).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await probe.stop();

    const points = timeline.points(FLUSH_SERIES);
    expect(points.length).toBeGreaterThanOrEqual(2);
    for (const point of points) {
      expect(point.v).toBeGreaterThan(0);
      expect(point.v).toBeLessThan(10_000);
    }
    const times = points.map((point) => point.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await expect(access(file)).rejects.toThrow();
  });
});

describe('the probe set beside an open loop', () => {
  // Answers every 0.01 s for 10 s: 50 ms in second 4, 5 ms elsewhere.
  const doneAt = Array.from({ length: 1_000 }, (_, i) => i / 100);
  const latencyMs = doneAt.map((t) => (Math.floor(t) === 4 ? 50 : 5));
  const load = { doneAt, latencyMs, status: doneAt.map(() => 202) };

  it('names the seconds over the threshold with the slowest flush in them or just before', () => {
    const probe = [
      { t: 1.25, v: 3 },
      { t: 3.75, v: 80 },
      { t: 4.5, v: 6 },
      { t: 7, v: 9 },
    ];
    expect(flushEffect(probe, load, 20)).toEqual({
      slowest: 80,
      slowSeconds: [{ second: 4, p99: 50, flushMs: 80 }],
      elsewhereMs: 9,
    });
  });

  it('says so when no flush was timed near a slow second', () => {
    const effect = flushEffect([{ t: 8.5, v: 2 }], load, 20);
    expect(effect?.slowSeconds).toEqual([{ second: 4, p99: 50 }]);
  });

  it('counts no second slow when every one is under the threshold', () => {
    const probe = [{ t: 2, v: 40 }];
    const effect = flushEffect(probe, load, 60);
    expect(effect).toEqual({ slowest: 40, slowSeconds: [], elsewhereMs: 40 });
  });

  it('gives each slow second the most the generator fell behind in it or just before', () => {
    // Sent every 0.01 s: 120 ms late at 3.5 s, 1 ms late elsewhere.
    const lateAt = doneAt;
    const lateMs = lateAt.map((t) => (t === 3.5 ? 120 : 1));
    const effect = flushEffect([{ t: 4.5, v: 2 }], { ...load, lateAt, lateMs }, 20);
    expect(effect?.slowSeconds).toEqual([{ second: 4, p99: 50, flushMs: 2, generatorLateMs: 120 }]);
    const slow = effect?.slowSeconds[0];
    // The load began at 0.4 s on the run's clock: second 4 began 3.6 s later.
    expect(slow && slowSecondText(slow, 0.4)).toBe(
      '+3.6 s: 50.0 ms with a flush of 2.0 ms, the generator 120.0 ms late',
    );
  });

  it('leaves out what was not timed near a slow second', () => {
    expect(slowSecondText({ second: 4, p99: 50 }, 4.25)).toBe(
      '-0.2 s: 50.0 ms, no flush timed near it',
    );
    const later = { ...load, lateAt: [9.5], lateMs: [300] };
    expect(flushEffect([{ t: 8.5, v: 2 }], later, 20)?.slowSeconds).toEqual([
      { second: 4, p99: 50 },
    ]);
  });

  it('gives each slow second the most the disk wrote in a quarter second, and elsewhere', () => {
    // A burst of 240 MB at 3.75 s, 4 MB a sample elsewhere.
    const written = [1, 2, 3.75, 4.25, 6, 8].map((t) => ({ t, v: t === 3.75 ? 240 : 4 }));
    const effect = flushEffect([{ t: 4.5, v: 2 }], load, 20, written);
    expect(effect?.slowSeconds).toEqual([{ second: 4, p99: 50, flushMs: 2, writtenMb: 240 }]);
    expect(effect?.elsewhereWrittenMb).toBe(4);
    const slow = effect?.slowSeconds[0];
    expect(slow && slowSecondText(slow, 0)).toBe(
      '+4.0 s: 50.0 ms with a flush of 2.0 ms, 240 MB written in a quarter second',
    );
    // Without the series, neither figure appears.
    const unmeasured = flushEffect([{ t: 4.5, v: 2 }], load, 20);
    expect(unmeasured?.slowSeconds).toEqual([{ second: 4, p99: 50, flushMs: 2 }]);
    expect(unmeasured && 'elsewhereWrittenMb' in unmeasured).toBe(false);
  });

  it('answers nothing when the probe reported nothing', () => {
    expect(flushEffect([], load, 20)).toBeUndefined();
  });
});
