import type { Sql } from '../db/sql.js';
import { elapsed } from './clock.js';
import { countWalFiles } from './wal-segments.js';

interface ActivityRow {
  pid: number;
  /** True for a session of the benchmark's database, false for the server's own processes. */
  ours: boolean;
  state: string | null;
  waitEventType: string | null;
  waitEvent: string | null;
}

export interface WaitSample {
  t: number;
  /** Active sessions by what they were doing: `CPU` when not waiting, else `type:event`. */
  active: Record<string, number>;
  /** Files in the server's WAL directory, when the benchmark's role may list it. */
  walFiles?: number;
  /** Checkpoints the server has begun since its statistics were reset. */
  checkpoints: number;
  /** Full-page images it has written to the WAL since then (`pg_stat_wal.wal_fpi`). */
  fullPageImages: number;
}

/**
 * The checkpoints that began near a load run, and the full-page images
 * written under it. After a checkpoint begins, the first change to each page
 * writes the whole page to the WAL, so the commits just after one carry more
 * to flush.
 */
export interface CheckpointEffect {
  /** When each checkpoint began, in seconds from the start of the load (negative: before it). */
  begunAt: number[];
  fullPageImages: number;
}

/** How long before a load run a checkpoint still counts as near it, in seconds. */
export const CHECKPOINT_LEAD_SECONDS = 10;

/**
 * Server processes that work for every session, whose CPU counts as
 * PostgreSQL's: the WAL writer flushes commits, the checkpointer and the
 * background writer write pages the sessions dirtied.
 */
const SHARED_BACKENDS = ['walwriter', 'checkpointer', 'background writer'];

/**
 * Looks at the sessions of the benchmark's database in pg_stat_activity: their
 * process ids, with the server's own processes that work for them (so their
 * CPU can be sampled), and what the active sessions wait on. It is the poor
 * man's view of where PostgreSQL time goes when pg_stat_statements is not
 * loaded, and it needs no server setting.
 */
export class PgActivity {
  pids: number[] = [];
  readonly samples: WaitSample[] = [];
  /** False once listing the WAL directory failed (a role without the right to). */
  private walListed = true;

  constructor(
    private readonly sql: Sql,
    private readonly databaseName: string,
  ) {}

  async sample(): Promise<void> {
    const rows = await this.sql<ActivityRow[]>`
      select pid, datname is not distinct from ${this.databaseName} as ours, state,
        wait_event_type, wait_event
      from pg_stat_activity
      where (datname = ${this.databaseName} and pid <> pg_backend_pid())
        or backend_type = any(${SHARED_BACKENDS})`;
    this.pids = rows.map((row) => row.pid);
    const active: Record<string, number> = {};
    for (const row of rows) {
      if (!row.ours || row.state !== 'active') continue;
      const what = row.waitEventType ? `${row.waitEventType}:${row.waitEvent}` : 'CPU';
      active[what] = (active[what] ?? 0) + 1;
    }
    const [counters] = await this.sql<{ checkpoints: number; fullPageImages: number }[]>`
      select (select checkpoints_timed + checkpoints_req from pg_stat_bgwriter)::float8
          as checkpoints,
        (select wal_fpi from pg_stat_wal)::float8 as full_page_images`;
    const walFiles = await this.walFilesIfListed();
    this.samples.push({
      t: elapsed(),
      active,
      checkpoints: counters?.checkpoints ?? 0,
      fullPageImages: counters?.fullPageImages ?? 0,
      ...(walFiles === undefined ? {} : { walFiles }),
    });
  }

  /**
   * The checkpoints begun from `CHECKPOINT_LEAD_SECONDS` before a load that
   * ran from `start` to `end` (run-clock seconds) until its end, each at the
   * first sample that counted it, and the full-page images written between
   * the samples before `start` and at `end`. The server counts a checkpoint
   * when it begins; its sessions report their WAL figures about once a
   * second, so the images are the load's give or take a second's worth.
   */
  checkpointEffect(start: number, end: number): CheckpointEffect {
    const begunAt = this.rises(
      (sample) => sample.checkpoints,
      start - CHECKPOINT_LEAD_SECONDS,
      end,
    );
    const lastBy = (t: number) => this.samples.filter((sample) => sample.t <= t).at(-1);
    const [first, last] = [lastBy(start), lastBy(end)];
    return {
      begunAt: begunAt.map((t) => t - start),
      fullPageImages: first && last ? Math.max(0, last.fullPageImages - first.fullPageImages) : 0,
    };
  }

  private async walFilesIfListed(): Promise<number | undefined> {
    if (!this.walListed) return undefined;
    const files = await countWalFiles(this.sql);
    if (files === undefined) this.walListed = false;
    return files;
  }

  /**
   * When PostgreSQL created WAL segment files between two run-clock seconds:
   * the time of each sample whose directory held more files than the one
   * before (recycling an old file renames it, and a checkpoint removes some,
   * so only creation adds one), once per file added. It counts the change
   * over a quarter second, so a file created while a checkpoint removes
   * others goes uncounted; it undercounts, never overcounts.
   */
  walFilesCreated(from: number, to: number): number[] {
    return this.rises((sample) => sample.walFiles, from, to);
  }

  /**
   * The times of the samples between two run-clock seconds whose `count`
   * was higher than in the sample before that had one, once per unit it rose.
   */
  private rises(
    count: (sample: WaitSample) => number | undefined,
    from: number,
    to: number,
  ): number[] {
    const times: number[] = [];
    let before: number | undefined;
    for (const sample of this.samples) {
      const value = count(sample);
      if (value === undefined) continue;
      if (before !== undefined && sample.t >= from && sample.t <= to) {
        for (let added = value - before; added > 0; added--) times.push(sample.t);
      }
      before = value;
    }
    return times;
  }

  /**
   * Mean number of active sessions per sample between two run-clock seconds:
   * about 1 means PostgreSQL worked on one statement at a time, whatever the
   * number of connections.
   */
  meanActive(from: number, to: number): number {
    const inRange = this.samples.filter((sample) => sample.t >= from && sample.t <= to);
    if (inRange.length === 0) return 0;
    const active = inRange.map((sample) =>
      Object.values(sample.active).reduce((sum, count) => sum + count, 0),
    );
    return active.reduce((sum, count) => sum + count, 0) / inRange.length;
  }

  /** Share of active-session samples per activity between two run-clock seconds, largest first. */
  waits(from: number, to: number): { what: string; share: number }[] {
    const totals = new Map<string, number>();
    let all = 0;
    for (const sample of this.samples) {
      if (sample.t < from || sample.t > to) continue;
      for (const [what, count] of Object.entries(sample.active)) {
        totals.set(what, (totals.get(what) ?? 0) + count);
        all += count;
      }
    }
    return [...totals]
      .map(([what, count]) => ({ what, share: all === 0 ? 0 : count / all }))
      .sort((a, b) => b.share - a.share);
  }
}
