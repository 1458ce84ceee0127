import { readFile, stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import type { Sql } from '../db/sql.js';
import { elapsed } from './clock.js';
import type { Timeline } from './timeline.js';

/** The timeline series of the page cache's dirty data, in MB. */
export const DIRTY_SERIES = 'dirty-mb';

/** The timeline series of what the disk under PostgreSQL wrote since the sample before, in MB. */
export const WRITTEN_SERIES = 'disk-written-mb';

/**
 * A background threshold above this lets dirty pages pile up until their age
 * sends them out all at once: on the host measured, 150 to 250 MB within half a
 * second every half minute or so, and the seconds with such a burst had an
 * accept p99 of 32 to 69 ms.
 */
const LARGE_THRESHOLD_MB = 256;

/** How the kernel decides when to write dirty pages out (`/proc/sys/vm`). */
export interface WritebackSettings {
  /** `vm.dirty_background_bytes`; 0 when the ratio applies instead. */
  backgroundBytes: number;
  /** `vm.dirty_background_ratio`: percent of the memory available to the page cache. */
  backgroundRatio: number;
  /** `vm.dirty_expire_centisecs`: the age at which dirty data is written out regardless. */
  expireCentisecs: number;
}

/** The kernel's writeback settings; undefined where they cannot be read (not Linux). */
export async function readWritebackSettings(): Promise<WritebackSettings | undefined> {
  const read = async (name: string) =>
    Number((await readFile(`/proc/sys/vm/${name}`, 'utf8')).trim());
  try {
    const [backgroundBytes, backgroundRatio, expireCentisecs] = await Promise.all([
      read('dirty_background_bytes'),
      read('dirty_background_ratio'),
      read('dirty_expire_centisecs'),
    ]);
    const all = [backgroundBytes, backgroundRatio, expireCentisecs];
    if (!all.every(Number.isFinite)) return undefined;
    return { backgroundBytes, backgroundRatio, expireCentisecs };
  } catch {
    return undefined;
  }
}

/**
 * The dirty data, in MB, past which the kernel starts writing it out in the
 * background. A ratio applies to the memory the page cache may use, taken
 * here as the memory available (`availableBytes`), so the figure is about.
 */
export function backgroundThresholdMb(settings: WritebackSettings, availableBytes: number): number {
  const bytes =
    settings.backgroundBytes > 0
      ? settings.backgroundBytes
      : (availableBytes * settings.backgroundRatio) / 100;
  return bytes / 2 ** 20;
}

/**
 * The kernel's writeback as the run finds it, with a warning when dirty pages
 * may pile up into bursts; undefined when the settings could not be read.
 */
export function writebackLine(
  settings: WritebackSettings | undefined,
  availableBytes = freemem(),
): string | undefined {
  if (!settings) return undefined;
  const threshold = backgroundThresholdMb(settings, availableBytes);
  const setting =
    settings.backgroundBytes > 0
      ? `vm.dirty_background_bytes ${settings.backgroundBytes}`
      : `vm.dirty_background_ratio ${settings.backgroundRatio}`;
  const held =
    `kernel writeback: dirty pages go out once they pass about ${Math.round(threshold)} MB ` +
    `(${setting}) or are ${settings.expireCentisecs / 100} s old`;
  if (threshold <= LARGE_THRESHOLD_MB) return held;
  return (
    `${held}: under load they pile up and go out in bursts that commits wait behind ` +
    '(the slow seconds of each open loop report them); a vm.dirty_background_bytes of a ' +
    'few tens of MB writes them out as they come (README, Operations)'
  );
}

/** A block device's numbers, as in `/proc/diskstats`. */
export interface DeviceNumber {
  major: number;
  minor: number;
}

/** The numbers of a device from a `stat` result's `dev` (Linux's encoding). */
export function deviceNumber(dev: number): DeviceNumber {
  const high = Math.floor(dev / 2 ** 32);
  const low = dev % 2 ** 32;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0),
    minor: ((low & 0xff) | ((low >>> 12) & 0xfff00) | ((high & 0xfff) << 20)) >>> 0,
  };
}

/**
 * Sectors written by a device, from the text of `/proc/diskstats`; the
 * kernel counts them in 512-byte units whatever the device's own sector size.
 * Undefined when the device has no line there.
 */
export function sectorsWritten(diskstats: string, device: DeviceNumber): number | undefined {
  for (const line of diskstats.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (Number(fields[0]) !== device.major || Number(fields[1]) !== device.minor) continue;
    const sectors = Number(fields[9]);
    return Number.isFinite(sectors) ? sectors : undefined;
  }
  return undefined;
}

/** The device of PostgreSQL's data directory; undefined when it cannot be named or read. */
export async function postgresDataDevice(sql: Sql): Promise<number | undefined> {
  try {
    const [row] = await sql<{ dir: string }[]>`select current_setting('data_directory') as dir`;
    return row ? (await stat(row.dir)).dev : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples the page cache's dirty data (`/proc/meminfo`) and what the disk
 * under PostgreSQL's data directory wrote since the sample before
 * (`/proc/diskstats`): the kernel writing out a pile of dirty pages shows as
 * a drop in the one and a burst in the other. Either series is left out
 * where it cannot be read.
 */
export class WritebackSampler {
  #sectors: number | undefined;

  constructor(
    private readonly timeline: Timeline,
    private readonly device: Promise<number | undefined>,
  ) {}

  async sample(): Promise<void> {
    const t = elapsed();
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    const dirtyKb = Number(/^Dirty:\s+(\d+) kB/m.exec(meminfo)?.[1]);
    if (Number.isFinite(dirtyKb)) this.timeline.add(DIRTY_SERIES, t, dirtyKb / 1024);
    const dev = await this.device;
    if (dev === undefined) return;
    const sectors = sectorsWritten(await readFile('/proc/diskstats', 'utf8'), deviceNumber(dev));
    if (sectors === undefined) return;
    if (this.#sectors !== undefined) {
      this.timeline.add(WRITTEN_SERIES, t, ((sectors - this.#sectors) * 512) / 2 ** 20);
    }
    this.#sectors = sectors;
  }
}
