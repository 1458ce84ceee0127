import { type ChildProcess, spawn } from 'node:child_process';
import { stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { sinceStart } from './clock.js';
import type { LoadResult } from './load.js';
import { acceptedBySecond, percentiles } from './stats.js';
import { max, type Point, type Timeline } from './timeline.js';

/** The timeline series of the probe: its slowest flush per window, in ms. */
export const FLUSH_SERIES = 'disk-flush-max';

/** How often the probe flushes, and the window it reports the slowest flush of. */
const FLUSH_EVERY_MS = 20;
const WINDOW_MS = 250;

/**
 * Run by the probe's own process, so that a flush that blocks for long holds
 * up neither the load generator nor the samplers. Each line it prints is the
 * start of a window (wall clock, ms) and the slowest flush begun in it.
 */
const PROBE_SCRIPT = `
const fs = require('node:fs');
const parent = process.ppid;
process.stdout.on('error', () => process.exit(0));
const fd = fs.openSync(process.argv[1], 'w');
const page = Buffer.alloc(8192, 1);
let window = 0;
let slowest = 0;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
  const begun = Date.now();
  const from = performance.now();
  fs.writeSync(fd, page, 0, page.length, 0);
  fs.fdatasyncSync(fd);
  const took = performance.now() - from;
  const own = begun - (begun % ${WINDOW_MS});
  if (own !== window) {
    if (window > 0) process.stdout.write(window + ' ' + slowest.toFixed(2) + '\\n');
    window = own;
    slowest = 0;
  }
  slowest = Math.max(slowest, took);
}, ${FLUSH_EVERY_MS});
`;

/**
 * A probe of the disk the benchmark runs on: every 20 ms a process of its own
 * writes 8 kB to a file and flushes it (`fdatasync`), as a commit flushes
 * PostgreSQL's WAL, and the slowest flush of every quarter second goes into
 * the timeline. A commit cannot be answered before its flush, so a second in
 * which the probe's flush stalled is one in which every commit could have.
 */
export class FlushProbe {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  /** Starts the probe's process, flushing to `file`. */
  constructor(
    readonly file: string,
    timeline: Timeline,
  ) {
    this.#child = spawn(process.execPath, ['-e', PROBE_SCRIPT, file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
    const lines = createInterface({ input: this.#child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const [window = Number.NaN, slowest = Number.NaN] = line.split(' ').map(Number);
      if (!Number.isFinite(window) || !Number.isFinite(slowest)) return;
      timeline.add(FLUSH_SERIES, sinceStart(new Date(window)), slowest);
    });
  }

  /** Stops the probe's process and removes its file. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
    await this.#exited;
    await unlink(this.file).catch(() => undefined);
  }
}

/**
 * Whether the probe's folder is on the device of PostgreSQL's data directory
 * (`dataDevice`, from `postgresDataDevice`): undefined when the server would
 * not name the directory (a role that is neither a superuser nor in
 * `pg_read_all_settings`) or it cannot be read from here.
 */
export async function sameDeviceAsPostgres(
  dataDevice: number | undefined,
  file: string,
): Promise<boolean | undefined> {
  if (dataDevice === undefined) return undefined;
  try {
    return (await stat(dirname(file))).dev === dataDevice;
  } catch {
    return undefined;
  }
}

export function flushProbeLine(file: string, sameDevice: boolean | undefined): string {
  const where =
    sameDevice === undefined
      ? "whether that is PostgreSQL's disk is unknown"
      : sameDevice
        ? "the device of PostgreSQL's data directory"
        : "not the device of PostgreSQL's data directory: it does not measure PostgreSQL's disk";
  const what = `8 kB written and flushed every ${FLUSH_EVERY_MS} ms`;
  return `disk flush probe: ${what} to ${file}, on ${where}`;
}

export interface SlowSecond {
  /** Run-clock second the answers arrived in. */
  second: number;
  /** Accept p99 of that second's answers, ms. */
  p99: number;
  /** Slowest probe flush begun in that second or the one before, ms; absent if none was timed. */
  flushMs?: number;
  /**
   * The most the load generator fell behind its schedule with a request sent
   * in that second or the one before, ms; absent if it sent none. A figure
   * near the second's p99, with fast flushes, says the whole host stood still.
   */
  generatorLateMs?: number;
  /**
   * The most the disk under PostgreSQL wrote in one sample (a quarter second)
   * in that second or the one before, MB; absent where it was not measured.
   * Hundreds of MB is the kernel writing out a pile of dirty pages, which the
   * commits behind it wait for.
   */
  writtenMb?: number;
}

export interface FlushEffect {
  /** Slowest probe flush while the load ran or in the second either side of it, ms. */
  slowest: number;
  /** The seconds whose answers had a p99 over the threshold. */
  slowSeconds: SlowSecond[];
  /** Slowest probe flush of the run outside those seconds and the ones before them, ms. */
  elsewhereMs: number;
  /** The most the disk wrote in one sample outside them, MB; absent where it was not measured. */
  elsewhereWrittenMb?: number;
}

/**
 * Sets the seconds of a run whose accept p99 passed `thresholdMs` beside what
 * the probe's flushes took then, and in the others. `probe` holds the probe's
 * windows of the run and of a second either side of it; `load` is the run's
 * answers, grouped by second as the timeline's `latency-p99` is, with the
 * generator's lateness where it kept it; `written` holds what the disk wrote
 * per sample over the same span, when it was measured. Undefined when the
 * probe reported nothing in the run.
 */
export function flushEffect(
  probe: Point[],
  load: Pick<LoadResult, 'doneAt' | 'latencyMs' | 'status'> &
    Partial<Pick<LoadResult, 'lateMs' | 'lateAt'>>,
  thresholdMs: number,
  written: Point[] = [],
): FlushEffect | undefined {
  if (probe.length === 0) return undefined;
  const near = (second: number) => (point: Point) => point.t >= second - 1 && point.t < second + 1;
  const late = (load.lateAt ?? []).map((t, index) => ({ t, v: load.lateMs?.[index] ?? 0 }));
  const slowSeconds: SlowSecond[] = [];
  for (const [second, answers] of acceptedBySecond(load)) {
    const p99 = percentiles(answers).p99;
    if (p99 <= thresholdMs) continue;
    const flushes = probe.filter(near(second));
    const sent = late.filter(near(second));
    const wrote = written.filter(near(second));
    slowSeconds.push({
      second,
      p99,
      ...(flushes.length > 0 ? { flushMs: max(flushes) } : {}),
      ...(sent.length > 0 ? { generatorLateMs: max(sent) } : {}),
      ...(wrote.length > 0 ? { writtenMb: max(wrote) } : {}),
    });
  }
  const outside = (point: Point) => !slowSeconds.some((slow) => near(slow.second)(point));
  const writtenElsewhere = written.filter(outside);
  return {
    slowest: max(probe),
    slowSeconds,
    elsewhereMs: max(probe.filter(outside)),
    ...(writtenElsewhere.length > 0 ? { elsewhereWrittenMb: max(writtenElsewhere) } : {}),
  };
}
