import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Timeline } from './timeline.js';

/** Writes `value` as indented JSON, creating the folder first. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** The timeline as plain data: series as [t, v] pairs rounded for a compact file. */
export function timelineJson(timeline: Timeline) {
  const series: Record<string, [number, number][]> = {};
  for (const [name, points] of timeline.series) {
    series[name] = points.map((point) => [round(point.t, 2), round(point.v, 3)]);
  }
  return { phases: timeline.phases, series };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A file-name-safe timestamp such as 2024-05-01T12-30-00Z. */
export function fileStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}
