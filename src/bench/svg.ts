import { FLUSH_SERIES } from './flush-probe.js';
import { type Line, segmentsOf, settledRate, sumSeries } from './plot-series.js';
import type { Phase, Timeline } from './timeline.js';

interface Panel {
  title: string;
  lines: Line[];
  log: boolean;
}

const WIDTH = 1100;
const PANEL_HEIGHT = 170;
const LEFT = 70;
const RIGHT = 150;
const TOP = 95;
const GAP = 45;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#7f7f7f'];

/**
 * The run over time as an SVG, drawn by hand: throughput, accept latency
 * (log scale), queue depth and CPU per process group, on one time axis with
 * the runs shaded and named.
 */
export function renderSvg(timeline: Timeline, title: string): string {
  const panels = panelsOf(timeline);
  const phases = timeline.phases;
  const allPoints = panels.flatMap((panel) => panel.lines.flatMap((line) => line.segments.flat()));
  const times = [
    ...phases.flatMap((phase) => [phase.start, phase.end]),
    ...allPoints.map((p) => p.t),
  ];
  const x0 = times.reduce((low, t) => Math.min(low, t), Number.POSITIVE_INFINITY);
  const x1 = times.reduce((high, t) => Math.max(high, t), Number.NEGATIVE_INFINITY);
  const height = TOP + panels.length * (PANEL_HEIGHT + GAP) + 20;
  const xOf = (t: number) => LEFT + ((t - x0) / Math.max(1, x1 - x0)) * (WIDTH - LEFT - RIGHT);

  const body = panels.map((panel, index) =>
    renderPanel(panel, TOP + index * (PANEL_HEIGHT + GAP), phases, xOf, x0, x1),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="14">${xmlText(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function panelsOf(timeline: Timeline): Panel[] {
  const line = (name: string, index: number, segments: Line['segments']) => ({
    name,
    color: COLORS[index % COLORS.length] ?? 'black',
    segments,
  });
  const cpu = (names: string[]) => segmentsOf(sumSeries(timeline, names), timeline.phases);
  const series = (name: string) => segmentsOf(timeline.points(name), timeline.phases);
  return [
    {
      title: 'transfers per second',
      log: false,
      lines: [line('accepted', 0, series('accepted')), line('settled', 1, settledRate(timeline))],
    },
    {
      title: "accept latency, and the disk probe's slowest flush, ms (log scale)",
      log: true,
      lines: [
        line('p50', 0, series('latency-p50')),
        line('p99', 1, series('latency-p99')),
        line('flush', 3, series(FLUSH_SERIES)),
      ],
    },
    {
      title: 'queue depth (waiting + active + delayed jobs)',
      log: false,
      lines: [line('jobs', 2, series('queue-depth'))],
    },
    {
      title: 'CPU, cores',
      log: false,
      lines: [
        line('web', 0, cpu(timeline.names('cpu:web-'))),
        line('workers', 1, cpu(timeline.names('cpu:worker-'))),
        line('postgres', 2, cpu(['cpu:postgres'])),
        line('redis', 3, cpu(['cpu:redis'])),
        line('load gen', 4, cpu(['cpu:bench'])),
        line('machine', 6, cpu(['cpu:machine'])),
        line('steal', 5, cpu(['steal'])),
      ],
    },
  ];
}

function renderPanel(
  panel: Panel,
  top: number,
  phases: Phase[],
  xOf: (t: number) => number,
  x0: number,
  x1: number,
): string {
  const values = panel.lines.flatMap((line) => line.segments.flat().map((point) => point.v));
  const positive = values.filter((value) => value > 0);
  const yMax = niceCeiling(values.reduce((high, v) => Math.max(high, v), 1));
  const lowest = positive.reduce((low, v) => Math.min(low, v), 1);
  const logMin = Math.max(0.1, 10 ** Math.floor(Math.log10(lowest)));
  const bottom = top + PANEL_HEIGHT;
  const yOf = panel.log
    ? (v: number) =>
        bottom -
        ((Math.log10(Math.max(v, logMin)) - Math.log10(logMin)) /
          (Math.log10(yMax) - Math.log10(logMin))) *
          PANEL_HEIGHT
    : (v: number) => bottom - (v / yMax) * PANEL_HEIGHT;
  const ticks = panel.log ? logTicks(logMin, yMax) : [0, yMax / 2, yMax];

  const parts: string[] = [];
  phases.forEach((phase, index) => {
    const x = xOf(phase.start);
    const w = Math.max(1, xOf(phase.end) - x);
    const fill = index % 2 === 0 ? '#f2f2f2' : '#e6eef7';
    parts.push(
      `<rect x="${r(x)}" y="${top}" width="${r(w)}" height="${PANEL_HEIGHT}" fill="${fill}"/>`,
    );
    if (top === TOP) {
      parts.push(
        `<text x="${r(x + 2)}" y="${top - 4}" font-size="9" ` +
          `transform="rotate(-35 ${r(x + 2)} ${top - 4})">${xmlText(phase.name)}</text>`,
      );
    }
  });
  parts.push(
    `<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PANEL_HEIGHT}" ` +
      'fill="none" stroke="#999"/>',
    `<text x="${LEFT}" y="${bottom + 28}" font-size="12">${xmlText(panel.title)}</text>`,
  );
  for (const tick of ticks) {
    const y = yOf(tick);
    parts.push(
      `<line x1="${LEFT - 4}" x2="${WIDTH - RIGHT}" y1="${r(y)}" y2="${r(y)}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${r(y + 4)}" text-anchor="end">${label(tick)}</text>`,
    );
  }
  for (const t of timeTicks(x0, x1)) {
    parts.push(`<text x="${r(xOf(t))}" y="${bottom + 13}" text-anchor="middle">${t}s</text>`);
  }
  panel.lines.forEach((line, index) => {
    for (const segment of line.segments) {
      const coords = segment.map((point) => `${r(xOf(point.t))},${r(yOf(point.v))}`).join(' ');
      parts.push(
        `<polyline points="${coords}" fill="none" stroke="${line.color}" stroke-width="1.3"/>`,
      );
    }
    const ly = top + 14 + index * 15;
    parts.push(
      `<line x1="${WIDTH - RIGHT + 10}" x2="${WIDTH - RIGHT + 30}" y1="${ly - 4}" y2="${ly - 4}" ` +
        `stroke="${line.color}" stroke-width="2"/>`,
      `<text x="${WIDTH - RIGHT + 35}" y="${ly}">${xmlText(line.name)}</text>`,
    );
  });
  return parts.join('\n');
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= value) ?? 10;
  return step * magnitude;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let tick = min; tick <= max * 1.0001; tick *= 10) ticks.push(tick);
  return ticks;
}

function timeTicks(x0: number, x1: number): number[] {
  const span = x1 - x0;
  const step = [5, 10, 15, 30, 60, 120].find((candidate) => span / candidate <= 12) ?? 300;
  const ticks: number[] = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) ticks.push(t);
  return ticks;
}

function label(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function r(value: number): string {
  return value.toFixed(1);
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
