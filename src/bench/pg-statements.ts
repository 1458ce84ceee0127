import type { Sql } from '../db/sql.js';

export interface StatementsStatus {
  available: boolean;
  loaded: boolean;
  note: string;
}

export interface StatementStat {
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
}

/**
 * Whether pg_stat_statements can be used here. It must be listed in
 * shared_preload_libraries, which needs a server restart; the benchmark never
 * changes a server setting, it only reports what it found.
 */
export async function statementsStatus(sql: Sql): Promise<StatementsStatus> {
  const [row] = await sql<{ available: boolean; preload: string }[]>`
    select exists (select 1 from pg_available_extensions where name = 'pg_stat_statements')
        as available,
      current_setting('shared_preload_libraries') as preload`;
  const available = row?.available ?? false;
  const loaded = (row?.preload ?? '').split(',').some((lib) => lib.trim() === 'pg_stat_statements');
  const note = !available
    ? 'pg_stat_statements is not installed on this server'
    : loaded
      ? 'pg_stat_statements is loaded; statements of the benchmark database are reported'
      : 'pg_stat_statements is installed but not in shared_preload_libraries; adding it needs ' +
        'a server restart, which the benchmark does not do: no per-statement figures';
  return { available, loaded, note };
}

/** Creates the extension in the benchmark database and forgets earlier figures. */
export async function resetStatements(sql: Sql): Promise<void> {
  await sql`create extension if not exists pg_stat_statements`;
  await sql`select pg_stat_statements_reset()`;
}

/** The statements of the current database that took the most time since the reset. */
export async function topStatements(sql: Sql, limit = 15): Promise<StatementStat[]> {
  return sql<StatementStat[]>`
    select left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query,
      calls::float8 as calls, total_exec_time as total_ms, mean_exec_time as mean_ms,
      rows::float8 as rows
    from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc
    limit ${limit}`;
}
