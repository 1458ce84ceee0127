import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIGRATIONS_DIR } from './migrate.js';
import type { Sql } from './sql.js';

/** SQLSTATEs that mean nothing was migrated: no database, or no record table. */
const NOTHING_MIGRATED = new Set(['3D000', '42P01']);

export interface SchemaCheckTiming {
  /** How long a starting process waits for PostgreSQL's first answer. */
  timeoutMs: number;
  /** Between later tries, while PostgreSQL cannot be asked. */
  retryMs: number;
}

const TIMING: SchemaCheckTiming = { timeoutMs: 5_000, retryMs: 2_000 };

/** What a check found: the error naming what is missing, null if nothing, undefined if unknown. */
type Finding = Error | null | undefined;

/**
 * Makes sure the database holds every migration of `dir` before the process
 * serves, since every request would otherwise fail on a missing table or
 * column with a 500:
 * - throws, naming what is missing and what to run, when PostgreSQL answers
 *   within `timeoutMs` and lacks some;
 * - when it does not answer in time, or cannot be reached, warns and returns,
 *   so that the process starts and reports itself not ready meanwhile, and
 *   goes on asking until PostgreSQL answers, then calls `refuse` if it lacks
 *   some.
 * With no migrations folder next to the code it warns and returns.
 */
export async function requireMigrations(
  sql: Sql,
  logger: { warn(message: string): void },
  refuse: (error: Error) => void,
  timing: SchemaCheckTiming = TIMING,
  dir = MIGRATIONS_DIR,
): Promise<void> {
  const names = await readdir(dir).then(
    (files) => files.filter((name) => name.endsWith('.sql')).sort(),
    () => undefined,
  );
  if (!names) {
    logger.warn(`no migrations folder at ${dir}; the schema is not checked`);
    return;
  }
  const check = (): Promise<Finding> =>
    sql<{ name: string }[]>`select name from schema_migrations`.then(
      (rows) => lacking(names, new Set(rows.map((row) => row.name))),
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        return typeof code === 'string' && NOTHING_MIGRATED.has(code)
          ? lacking(names, new Set())
          : undefined;
      },
    );
  const first = check();
  const late = sleep(timing.timeoutMs, 'late' as const, { ref: false });
  const answered = await Promise.race([first, late]);
  if (answered instanceof Error) throw answered;
  if (answered === null) return;
  logger.warn('could not check that the database is migrated; starting, and asking again');
  void (async () => {
    let next = answered === 'late' ? first : undefined;
    for (;;) {
      const finding = await (next ?? check());
      if (finding instanceof Error) return refuse(finding);
      if (finding === null) return;
      await sleep(timing.retryMs, undefined, { ref: false });
      next = undefined;
    }
  })();
}

function lacking(names: string[], recorded: Set<string>): Finding {
  const missing = names.filter((name) => !recorded.has(name));
  if (missing.length === 0) return null;
  return new Error(
    `the database lacks ${missing.length} migration(s) (${missing.join(', ')}): run ` +
      '`npm run migrate`, or `npm run migrate:prod` after a build, first',
  );
}
