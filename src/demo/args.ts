import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './processes.js';

export interface DemoArgs {
  transactionsPath: string;
  accountsPath: string;
  /** Accounts replayed at once; each has at most one movement in progress. */
  concurrency: number;
  workers: number;
  help: boolean;
}

const USAGE_LINE =
  'usage: npm run demo -- [--file PATH] [--accounts PATH] [--concurrency N] [--workers N]';

export const USAGE = `${USAGE_LINE}

Replays bank movements through the API and reconciles the ledger against them.
  --file PATH        transactions in the layout of data/berka/trans-1993h1.asc
  --accounts PATH    accounts in the layout of data/berka/account.asc (default: that file)
  --concurrency N    accounts replayed at once (default 64)
  --workers N        transfer worker processes to start (default 2)`;

export function parseDemoArgs(argv: string[]): DemoArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string' },
      accounts: { type: 'string' },
      concurrency: { type: 'string', default: '64' },
      workers: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    transactionsPath: values.file ?? join(REPO_ROOT, 'data/berka/trans-1993h1.asc'),
    accountsPath: values.accounts ?? join(REPO_ROOT, 'data/berka/account.asc'),
    concurrency: positive('--concurrency', values.concurrency),
    workers: positive('--workers', values.workers),
    help: values.help,
  };
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new Error(`${name} must be a whole number from 1 to 1000, not "${text}"`);
  }
  return value;
}
