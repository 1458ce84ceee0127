import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

/**
 * The project's `migrations/` folder, found from this file whether it runs as
 * TypeScript (`src/db/`) or compiled (`dist/src/db/`).
 */
export const MIGRATIONS_DIR =
  ['../../migrations/', '../../../migrations/']
    .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
    .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Any constant will do; every process that migrates must use the same one. */
const MIGRATION_LOCK_ID = 727_366_001;

interface MigrationFile {
  name: string;
  checksum: string;
  body: string;
}

export interface MigrateResult {
  created: boolean;
  applied: string[];
}

/**
 * Brings the schema of the database named in `databaseUrl` up to date.
 * Creates the database if it is missing, then applies each file of
 * `migrations/` not yet recorded, in name order, each in its own transaction,
 * under an advisory lock so that concurrent runs wait for each other. A file
 * that was applied and later edited is an error.
 */
export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const created = await ensureDatabase(databaseUrl);
  const files = await readMigrations(dir);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await sql`
      create table if not exists schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const rows = await sql<{ name: string; checksum: string }[]>`
      select name, checksum from schema_migrations`;
    const done = new Map(rows.map((row) => [row.name, row.checksum]));
    const applied: string[] = [];
    for (const file of files) {
      const checksum = done.get(file.name);
      if (checksum !== undefined) {
        if (checksum !== file.checksum) {
          throw new Error(`migration ${file.name} was edited after it was applied`);
        }
        continue;
      }
      await sql.begin(async (tx) => {
        await tx.unsafe(file.body);
        await tx`insert into schema_migrations (name, checksum)
          values (${file.name}, ${file.checksum})`;
      });
      applied.push(file.name);
    }
    for (const name of done.keys()) {
      if (!files.some((file) => file.name === name)) {
        throw new Error(`migration ${name} is recorded but its file is missing`);
      }
    }
    return { created, applied };
  } finally {
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    await sql.end();
  }
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const body = await readFile(join(dir, name), 'utf8');
      const checksum = createHash('sha256').update(body).digest('hex');
      return { name, checksum, body };
    }),
  );
}

/** Creates the database if it does not exist; true when this call created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  url.pathname = '/postgres';
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${name}`;
    if (found.length > 0) return false;
    try {
      await admin.unsafe(`create database "${name}"`);
      return true;
    } catch (error) {
      // Another process created it between our look-up and our create.
      if ((error as { code?: string }).code === '42P04') return false;
      if ((error as { code?: string }).code === '23505') return false;
      throw error;
    }
  } finally {
    await admin.end();
  }
}

/** Drops a database (tests and benchmarks only), ending its sessions first. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  url.pathname = '/postgres';
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}
