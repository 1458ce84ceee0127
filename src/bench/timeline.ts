export interface Point {
  /** Run-clock seconds. */
  t: number;
  v: number;
}

export interface Phase {
  name: string;
  start: number;
  end: number;
}

/**
 * Every measurement taken over time during a run, by series name (such as
 * `cpu:web-1` or `queue-depth`), and the named phases of the run, so that a
 * window of any series can be summarized afterwards and everything plotted.
 */
export class Timeline {
  readonly series = new Map<string, Point[]>();
  readonly phases: Phase[] = [];

  add(name: string, t: number, v: number): void {
    const points = this.series.get(name);
    if (points) points.push({ t, v });
    else this.series.set(name, [{ t, v }]);
  }

  points(name: string, from = -Infinity, to = Infinity): Point[] {
    return (this.series.get(name) ?? []).filter((point) => point.t >= from && point.t <= to);
  }

  names(prefix: string): string[] {
    return [...this.series.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  phase(name: string, start: number, end: number): Phase {
    const phase = { name, start, end };
    this.phases.push(phase);
    return phase;
  }
}

export function mean(points: Point[]): number {
  if (points.length === 0) return 0;
  return points.reduce((sum, point) => sum + point.v, 0) / points.length;
}

export function max(points: Point[]): number {
  return points.reduce((top, point) => Math.max(top, point.v), 0);
}
