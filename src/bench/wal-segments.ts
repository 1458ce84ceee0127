import type { Sql } from '../db/sql.js';
import { percentiles } from './stats.js';

export interface WalSegmentEffect {
  /** WAL segment files PostgreSQL created while the load ran. */
  created: number;
  /** Whole seconds of the run clock in which at least one was created. */
  seconds: number;
  /** Accept p99 of the answers that arrived in those seconds, and in the others, in ms. */
  p99Within: number;
  p99Elsewhere: number;
}

/**
 * Sets the answers of a run that arrived in a second in which PostgreSQL
 * created a WAL segment file apart from the others. Creating one writes and
 * flushes a whole segment (16 MB by default) while the commits behind it
 * wait; recycling an old file, which PostgreSQL does when `min_wal_size`
 * leaves it some, costs nothing. `createdAt` holds a run-clock time per file
 * created; `doneAt` and `latencyMs` are the run's answers, in the same order.
 */
export function walSegmentEffect(
  createdAt: number[],
  doneAt: number[],
  latencyMs: number[],
): WalSegmentEffect {
  const seconds = new Set(createdAt.map((t) => Math.floor(t)));
  const within: number[] = [];
  const elsewhere: number[] = [];
  doneAt.forEach((t, index) => {
    const latency = latencyMs[index];
    if (latency === undefined) return;
    (seconds.has(Math.floor(t)) ? within : elsewhere).push(latency);
  });
  return {
    created: createdAt.length,
    seconds: seconds.size,
    p99Within: percentiles(within).p99,
    p99Elsewhere: percentiles(elsewhere).p99,
  };
}

export interface WalDirectory {
  /** Segment files in it, when the benchmark's role may list it (`pg_ls_waldir()`). */
  files: number | undefined;
  /** How many segment files `max_wal_size` allows. */
  room: number;
}

/** Files in the server's WAL directory; undefined when the role may not list it. */
export async function countWalFiles(sql: Sql): Promise<number | undefined> {
  try {
    const [row] = await sql<{ files: number }[]>`
      select count(*)::int as files from pg_ls_waldir()`;
    return row?.files;
  } catch {
    return undefined;
  }
}

/**
 * What the WAL directory means for the run's latency. A server keeps the
 * segment files it has written and reuses them after a checkpoint, up to
 * about what `max_wal_size` allows; until it holds that many (a new server,
 * or one whose checkpoints found little to keep), a run that writes more WAL
 * than the files it has creates new ones, and the commits behind one can wait
 * while it is written out (on one host measured, for tens of milliseconds in a
 * new server's first runs and after checkpoints had trimmed the directory).
 * A `min_wal_size` as large as `max_wal_size` keeps the files a checkpoint
 * would remove. Undefined when the directory could not be listed.
 */
export function walDirectoryLine(wal: WalDirectory): string | undefined {
  if (wal.files === undefined) return undefined;
  const held =
    `PostgreSQL's WAL directory holds ${wal.files} segment files; ` +
    `max_wal_size allows ${wal.room}`;
  if (wal.files >= wal.room) return held;
  return (
    `${held}: the load runs may create files, and commits can wait while one is written ` +
    '(each run counts them); a min_wal_size as large as max_wal_size keeps them'
  );
}
