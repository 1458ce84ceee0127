import { open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Timeline } from '../../src/bench/timeline.js';
import {
  backgroundThresholdMb,
  DIRTY_SERIES,
  deviceNumber,
  postgresDataDevice,
  readWritebackSettings,
  sectorsWritten,
  WRITTEN_SERIES,
  WritebackSampler,
  writebackLine,
} from '../../src/bench/writeback.js';
import { createSql } from '../../src/db/sql.js';
import { testConfig } from '../support/env.js';

const sql = createSql(testConfig(), { max: 1 });
afterAll(async () => {
  await sql.end();
});

const GIB = 2 ** 30;

describe("the kernel's writeback settings", () => {
  it('reads them on Linux', async () => {
    const settings = await readWritebackSettings();
    expect(settings).toBeDefined();
    expect(settings?.expireCentisecs).toBeGreaterThan(0);
    // One of the two thresholds is set, the other reads 0.
    expect((settings?.backgroundBytes ?? 0) + (settings?.backgroundRatio ?? 0)).toBeGreaterThan(0);
  });

  it('takes the threshold from the bytes when set, else from the ratio of memory available', () => {
    const ratio = { backgroundBytes: 0, backgroundRatio: 10, expireCentisecs: 3000 };
    expect(backgroundThresholdMb(ratio, 20 * GIB)).toBe(2048);
    const bytes = { ...ratio, backgroundBytes: 32 * 2 ** 20 };
    expect(backgroundThresholdMb(bytes, 20 * GIB)).toBe(32);
  });

  it('warns when dirty pages may pile up, and only then', () => {
    const ratio = { backgroundBytes: 0, backgroundRatio: 10, expireCentisecs: 3000 };
    expect(writebackLine(ratio, 20 * GIB)).toBe(
      'kernel writeback: dirty pages go out once they pass about 2048 MB ' +
        '(vm.dirty_background_ratio 10) or are 30 s old: under load they pile up and go out ' +
        'in bursts that commits wait behind (the slow seconds of each open loop report ' +
        'them); a vm.dirty_background_bytes of a few tens of MB writes them out as they ' +
        'come (README, Operations)',
    );
    const bytes = { ...ratio, backgroundBytes: 32 * 2 ** 20 };
    expect(writebackLine(bytes, 20 * GIB)).toBe(
      'kernel writeback: dirty pages go out once they pass about 32 MB ' +
        '(vm.dirty_background_bytes 33554432) or are 30 s old',
    );
    // The boundary: 256 MB is not warned about, 257 is.
    const at = { ...ratio, backgroundBytes: 256 * 2 ** 20 };
    expect(writebackLine(at, 20 * GIB)).not.toContain('bursts');
    const over = { ...ratio, backgroundBytes: 257 * 2 ** 20 };
    expect(writebackLine(over, 20 * GIB)).toContain('bursts');
    expect(writebackLine(undefined)).toBeUndefined();
  });
});

describe('device numbers and /proc/diskstats', () => {
  it("decodes a stat result's device as Linux encodes it", () => {
    expect(deviceNumber(0xfe00)).toEqual({ major: 254, minor: 0 });
    expect(deviceNumber((259 << 8) | 1)).toEqual({ major: 259, minor: 1 });
    // Minor 300 keeps its high bits above the major's.
    expect(deviceNumber(44 | (8 << 8) | (256 << 12))).toEqual({ major: 8, minor: 300 });
  });

  it("reads the sectors written from the device's own line", () => {
    const stats = [
      ' 254       0 vda 41645 6947 2151554 46207 1934498 30770 68391240 581731 0 110724',
      ' 254       1 vda1 100 0 800 10 2000 0 16000 50 0 40',
      ' 253       0 zram0 0 0 0 0 0 0 0 0 0 0',
    ].join('\n');
    expect(sectorsWritten(stats, { major: 254, minor: 0 })).toBe(68391240);
    expect(sectorsWritten(stats, { major: 254, minor: 1 })).toBe(16000);
    expect(sectorsWritten(stats, { major: 8, minor: 0 })).toBeUndefined();
  });
});

describe('the writeback sampler', () => {
  const dir = tmpdir();
  const file = join(dir, `fintech-core-writeback-${process.pid}`);
  afterAll(async () => {
    await rm(file, { force: true });
  });

  it('records the dirty pages, and what the disk wrote between two samples', async () => {
    const dev = (await stat(dir)).dev;
    const timeline = new Timeline();
    const sampler = new WritebackSampler(timeline, Promise.resolve(dev));
    await sampler.sample();
    const handle = await open(file, 'w');
    await handle.write(Buffer.alloc(4 * 2 ** 20, 7));
    await handle.sync();
    await handle.close();
    await sampler.sample();

    expect(timeline.points(DIRTY_SERIES)).toHaveLength(2);
    for (const point of timeline.points(DIRTY_SERIES)) expect(point.v).toBeGreaterThanOrEqual(0);
    // Whether the device has a line of its own, read here without the module's parser.
    const { major, minor } = deviceNumber(dev);
    const diskstats = await readFile('/proc/diskstats', 'utf8');
    const listed = new RegExp(`^\\s*${major}\\s+${minor}\\s`, 'm').test(diskstats);
    const written = timeline.points(WRITTEN_SERIES);
    if (!listed) {
      // A device with no line of its own (an overlay, a tmpfs): nothing is made up.
      expect(written).toEqual([]);
    } else {
      expect(written).toHaveLength(1);
      // The 4 MB just flushed, at least.
      expect(written[0]?.v).toBeGreaterThanOrEqual(4);
    }
  });

  it('records the dirty pages alone when the disk is not known', async () => {
    const timeline = new Timeline();
    const sampler = new WritebackSampler(timeline, Promise.resolve(undefined));
    await sampler.sample();
    await sampler.sample();
    expect(timeline.points(DIRTY_SERIES)).toHaveLength(2);
    expect(timeline.points(WRITTEN_SERIES)).toEqual([]);
  });

  it("finds the device of PostgreSQL's data directory", async () => {
    const [row] = await sql<{ dir: string }[]>`select current_setting('data_directory') as dir`;
    expect(await postgresDataDevice(sql)).toBe((await stat(row?.dir ?? '/nonexistent')).dev);
  });
});
