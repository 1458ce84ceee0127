import { randomBytes } from 'node:crypto';
import { dropDatabase, migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL } from './env.js';

/**
 * A freshly migrated database for one test file. Workers and the webhook
 * dispatcher serve every tenant of their database, so a test file that runs
 * them keeps its transfers and events away from other files running at the
 * same time, and theirs away from it.
 */
export async function createScratchDatabase(tag: string): Promise<string> {
  const name = `fintech_core_test_${tag}_${randomBytes(4).toString('hex')}`;
  const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
  await migrate(url);
  return url;
}

export { dropDatabase as dropScratchDatabase };
