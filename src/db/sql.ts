import postgres from 'postgres';
import type { Config } from '../config.js';
import { isTransientError } from '../lib/errors.js';

export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;
/** Either the pool or a transaction: what a data-layer function runs on. */
export type Db = Sql | TransactionSql;

/**
 * A session of this project is never idle inside a transaction for more than
 * moments (between two statements of one request or batch). One that is
 * (a frozen process, a connection whose peer vanished) holds its locks, such
 * as a partition's, and everything behind them waits; PostgreSQL ends it.
 */
const IDLE_IN_TRANSACTION_MS = 10_000;

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
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin((tx) => work(tx))) as T;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const retry = (code === '40001' || code === '40P01') && attempt < attempts;
      if (!retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}

export { isTransientError };
