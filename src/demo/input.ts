import { readFile } from 'node:fs/promises';
import type { DemoArgs } from './args.js';
import { parseAccounts, parseMovements } from './berka.js';
import { buildPlan, type ReplayPlan } from './plan.js';

/**
 * Reads both files and plans the replay; a malformed line stops the demo before
 * anything starts.
 */
export async function loadPlan(args: DemoArgs): Promise<ReplayPlan> {
  const [accounts, movements] = await Promise.all([
    readFile(args.accountsPath, 'utf8').then(parseAccounts),
    readFile(args.transactionsPath, 'utf8').then(parseMovements),
  ]);
  return buildPlan(accounts, movements);
}
