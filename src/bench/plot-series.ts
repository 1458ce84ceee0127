import type { Phase, Point, Timeline } from './timeline.js';

/** One curve of the plot; a break in time starts a new segment. */
export interface Line {
  name: string;
  color: string;
  segments: Point[][];
}

/**
 * Transfers settled per second, from each run's running count of final
 * transfers: the change over about one second of samples.
 */
export function settledRate(timeline: Timeline): Point[][] {
  return timeline.names('settled:').map((name) => {
    const counts = timeline.points(name);
    const rates: Point[] = [];
    let back = 0;
    counts.forEach((point, index) => {
      while (back < index && point.t - (counts[back + 1]?.t ?? point.t) >= 1) back++;
      const from = counts[back];
      if (!from || point.t - from.t < 0.5) return;
      rates.push({ t: point.t, v: (point.v - from.v) / (point.t - from.t) });
    });
    return rates;
  });
}

/** The sum of several series sampled on the same ticks (the resource sampler's). */
export function sumSeries(timeline: Timeline, names: string[]): Point[] {
  const byTick = new Map<number, number>();
  for (const name of names) {
    for (const point of timeline.points(name)) {
      byTick.set(point.t, (byTick.get(point.t) ?? 0) + point.v);
    }
  }
  return [...byTick].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, v }));
}

/**
 * Splits a series where it passes from one phase of the run to another, or
 * where samples are more than `gap` seconds apart, so that no line joins two
 * runs.
 */
export function segmentsOf(points: Point[], phases: Phase[], gap = 3): Point[][] {
  const phaseOf = (t: number) => phases.findIndex((phase) => t >= phase.start && t <= phase.end);
  const segments: Point[][] = [];
  let current: Point[] = [];
  let currentPhase = Number.NaN;
  for (const point of points) {
    const last = current[current.length - 1];
    const phase = phaseOf(point.t);
    if (last && (point.t - last.t > gap || phase !== currentPhase)) {
      segments.push(current);
      current = [];
    }
    current.push(point);
    currentPhase = phase;
  }
  if (current.length > 0) segments.push(current);
  return segments;
}
