import { readdir } from 'node:fs/promises';
import { MIGRATIONS_DIR } from './migrate.js';
import type { Sql } from './sql.js';

/** How long a starting process waits for PostgreSQL to say what it has applied. */
const CHECK_TIMEOUT_MS = 5_000;

/** SQLSTATEs that mean nothing was migrated: no database, or no record table. */
const NOTHING_MIGRATED = new Set(['3D000', '42P01']);

/**
 * The migrations of `dir` that the database has not recorded, or undefined
 * when that cannot be told: PostgreSQL not answering within `timeoutMs`, or
 * no migrations folder next to the code.
 */
export async function missingMigrations(
  sql: Sql,
  timeoutMs = CHECK_TIMEOUT_MS,
  dir = MIGRATIONS_DIR,
): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  } catch {
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const recorded = sql<{ name: string }[]>`select name from schema_migrations`.then(
    (rows) => new Set(rows.map((row) => row.name)),
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      return typeof code === 'string' && NOTHING_MIGRATED.has(code) ? new Set<string>() : undefined;
    },
  );
  try {
    const done = await Promise.race([recorded, timeout]);
    return done && names.filter((name) => !done.has(name));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Throws, naming what to run, when PostgreSQL answers and lacks migrations
 * this code needs: every request would otherwise fail on a missing table or
 * column with a 500. When PostgreSQL cannot be asked, it warns and returns:
 * a process then starts and reports itself not ready until PostgreSQL
 * answers.
 */
export async function requireMigrations(
  sql: Sql,
  logger: { warn(message: string): void },
): Promise<void> {
  const missing = await missingMigrations(sql);
  if (missing === undefined) {
    logger.warn('could not check that the database is migrated; going on');
    return;
  }
  if (missing.length > 0) {
    throw new Error(
      `the database lacks ${missing.length} migration(s) (${missing.join(', ')}): run ` +
        '`npm run migrate`, or `npm run migrate:prod` after a build, first',
    );
  }
}
