import postgres from 'postgres';
import type { Config } from '../config.js';
import { isTransientError } from '../lib/errors.js';

export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;
/** One connection of the pool, held until released. */
export type ReservedSql = postgres.ReservedSql<{ bigint: bigint }>;
/** The pool, a transaction or a reserved connection: what a data-layer function runs on. */
export type Db = Sql | TransactionSql | ReservedSql;
/** A statement built but not yet sent. */
export type Statement<T extends readonly object[]> = postgres.PendingQuery<T>;

/**
 * A session of this project is never idle inside a transaction for more than
 * moments (between two statements of one request or batch). One that is
 * (a frozen process, a connection whose peer vanished) holds its locks, such
 * as a partition's, and everything behind them waits; PostgreSQL ends it.
 */
const IDLE_IN_TRANSACTION_MS = 10_000;

/** The longest wait, in seconds, between a pool's attempts to connect. */
const RECONNECT_WAIT_MAX_S = 2;

/**
 * Seconds before a pool's next attempt to connect after `retries` failed
 * ones: from about 30 ms, doubling, never past `RECONNECT_WAIT_MAX_S`, less
 * up to half of it at random so that processes do not try in step.
 * postgres.js lets the wait grow to 20 s, and fails every query meanwhile
 * with the last error, so a process went on failing for that long after
 * PostgreSQL came back. An attempt every 2 s or so costs PostgreSQL nothing.
 */
function reconnectWaitSeconds(retries: number): number {
  return Math.min(0.03 * 2 ** retries, RECONNECT_WAIT_MAX_S) * (1 - Math.random() / 2);
}

/**
 * A pool of PostgreSQL connections. `bigint` columns come back as JS bigint,
 * never as a lossy number; column names are converted to camelCase here and
 * nowhere else, and json values are left exactly as stored.
 */
export function createSql(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  options: {
    max?: number;
    application?: string;
    onQuery?: (query: string) => void;
    /** Longest wait for a lock before a statement fails with SQLSTATE 55P03. */
    lockTimeoutMs?: number;
  } = {},
): Sql {
  const lockTimeout =
    options.lockTimeoutMs === undefined ? {} : { lock_timeout: options.lockTimeoutMs };
  const onQuery = options.onQuery;
  return postgres(config.DATABASE_URL, {
    debug: onQuery ? (_connection, query) => onQuery(query) : false,
    max: options.max ?? config.DATABASE_POOL_SIZE,
    types: { bigint: postgres.BigInt },
    // Column names only: postgres.camel would also rename the keys inside
    // json values, and a client's metadata must come back as it was sent.
    transform: { column: { from: postgres.toCamel, to: postgres.fromCamel } },
    onnotice: () => {},
    connection: {
      application_name: options.application ?? 'fintech-core',
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      ...lockTimeout,
    },
    idle_timeout: 60,
    backoff: reconnectWaitSeconds,
  }) as unknown as Sql;
}

/**
 * Runs `work` in a transaction, again from the start when PostgreSQL reports a
 * serialization failure or a deadlock (SQLSTATE 40001, 40P01), up to
 * `attempts` times. Inside, use only the transaction's own `sql`.
 */
export async function withTransaction<T>(
  sql: Sql,
  work: (tx: TransactionSql) => Promise<T>,
  attempts = 5,
): Promise<T> {
  return retryConflicts(async () => (await sql.begin((tx) => work(tx))) as T, attempts);
}

/**
 * A transaction of two statements in two round trips, where `withTransaction`
 * would take four: BEGIN travels with the first statement and COMMIT with the
 * second (statements issued together on a reserved connection leave in one
 * write). Not as a postgres.js batch, which does the same with one Sync: in
 * postgres.js 4.2 nearly everything a batch allocates outlives the young
 * collections of the heap, which made the worker run a full collection every
 * few seconds. A statement that fails aborts the transaction, and a COMMIT
 * sent behind it then rolls it back. `next`
 * builds the second statement from the first one's rows, or answers null when
 * there is nothing to write, and the transaction then just ends, releasing
 * its locks. Nothing reads the second statement's rows before COMMIT, so it
 * must check its own effects and fail when they are not what was decided
 * (`fail_unless`). A failure at either step rolls it all back; serialization
 * failures and deadlocks run it again from the start, up to `attempts` times.
 * `settings` are set for the transaction alone (`set_config(..., true)`), in
 * a statement sent with BEGIN, before the first statement is planned.
 */
export async function withTwoStatements<
  First extends readonly object[],
  Second extends readonly object[],
>(
  sql: Sql,
  first: (db: ReservedSql) => Statement<First>,
  next: (rows: First, db: ReservedSql) => Statement<Second> | null,
  options: { attempts?: number; settings?: Readonly<Record<string, string>> } = {},
): Promise<{ first: First; second: Second | null }> {
  return retryConflicts(async () => {
    const db = await sql.reserve();
    let open = true;
    try {
      const opening = [db`begin`];
      if (options.settings) opening.push(setForTransaction(db, options.settings));
      const results = await Promise.all([...opening, first(db)]);
      const firstRows = results[results.length - 1] as First;
      const second = next(firstRows, db);
      if (!second) {
        await db`commit`;
        open = false;
        return { first: firstRows, second: null };
      }
      const [secondRows] = await Promise.all([second, db`commit`]);
      open = false;
      return { first: firstRows, second: secondRows };
    } catch (error) {
      if (open) await db`rollback`.catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }, options.attempts ?? 5);
}

/**
 * Sets each setting (a server parameter) for the rest of the caller's
 * transaction alone, in one statement, as `SET LOCAL` does.
 */
export function setForTransaction(
  db: Db,
  settings: Readonly<Record<string, string>>,
): Statement<object[]> {
  const entries = Object.entries(settings);
  return db`
    select set_config(s.name, s.value, true)
    from unnest(${entries.map(([name]) => name)}::text[],
      ${entries.map(([, value]) => value)}::text[]) as s (name, value)`;
}

/** Runs `transaction` again while it fails with SQLSTATE 40001 or 40P01, up to `attempts` times. */
async function retryConflicts<T>(transaction: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      const code = (error as { code?: string }).code;
      const retry = (code === '40001' || code === '40P01') && attempt < attempts;
      if (!retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}

export { isTransientError };
