import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { ScenarioName } from './pairs.js';

export type Runtime = 'dist' | 'tsx';

export interface BenchOptions {
  /** Small counts for a smoke run; asserts nothing about speed. */
  quick: boolean;
  web: number;
  workers: number;
  /** Write a .cpuprofile of every web and worker process into the results folder. */
  profile: boolean;
  /** `dist` builds the project first and runs plain JavaScript, as production does. */
  runtime: Runtime;
  databaseName: string;
  outDir: string;
  /** Extra Node flags for the web and worker processes, such as heap limits. */
  nodeFlags: string[];
  /** The scenarios to load, in this order; all three by default. */
  scenarios: ScenarioName[];
  /** Whether to end with the backlog drains of the scaling step. */
  drains: boolean;
  /** Whether a process of its own flushes a file beside the results throughout (`FlushProbe`). */
  flushProbe: boolean;
  /** Settings that replace the defaults for every process of the run, by variable name. */
  settings: Record<string, string>;
  /** Accounts per scenario tenant and raw-SQL baseline, instead of the plan's. */
  accounts: number | undefined;
}

/** An upper bound, so that a slip of the keyboard does not seed for minutes. */
const MAX_ACCOUNTS = 1_000_000;

const SCENARIO_NAMES: ScenarioName[] = ['uniform', 'hot-source', 'hot-destination'];

export const USAGE = `usage: npm run bench -- [options]
  --quick            small counts (under a minute); for a smoke run
  --web N            web processes (default 1)
  --workers N        transfer worker processes (default 1); the scaling step adds one
  --profile          write .cpuprofile files of web and worker processes
  --runtime R        dist (build, then run JavaScript; default) or tsx
  --database NAME    database of the benchmark, dropped first (default fintech_core_bench)
  --out DIR          results folder (default bench-results)
  --node-flags=F     extra Node flags for web and worker processes, e.g.
                     --node-flags="--max-old-space-size=96 --max-semi-space-size=2"
  --scenarios LIST   comma-separated subset of uniform,hot-source,hot-destination
                     (default all), for a shorter run while profiling one of them
  --no-drains        skip the backlog drains of the scaling step
  --no-flush-probe   do not time a flush of 8 kB to the results folder every
                     20 ms (the disk's stalls, set beside each open loop's
                     slow seconds)
  --accounts N       open accounts per scenario and raw-SQL baseline (default
                     100000, or 100 with --quick): how often the transfers of
                     concurrent transactions share an account
  --set NAME=VALUE   a setting (see the README's configuration table) for every
                     process of the run instead of its default; repeatable,
                     e.g. --set APPLY_IDLE_MS=0`;

/** Reads the command line; a bad value throws an error that names it. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = readArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      web: { type: 'string', default: '1' },
      workers: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      runtime: { type: 'string' },
      database: { type: 'string', default: 'fintech_core_bench' },
      out: { type: 'string', default: 'bench-results' },
      'node-flags': { type: 'string', default: '' },
      scenarios: { type: 'string', default: SCENARIO_NAMES.join(',') },
      'no-drains': { type: 'boolean', default: false },
      'no-flush-probe': { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      accounts: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE);

  const runtime = values.runtime ?? (values.quick ? 'tsx' : 'dist');
  if (runtime !== 'dist' && runtime !== 'tsx') throw new UsageError('--runtime: dist or tsx');
  if (!/^[a-z0-9_]+$/.test(values.database)) {
    throw new UsageError('--database: lower-case letters, digits and _ only');
  }
  return {
    quick: values.quick,
    web: count('--web', values.web, 8),
    workers: count('--workers', values.workers, 8),
    profile: values.profile,
    runtime,
    databaseName: values.database,
    outDir: values.out,
    nodeFlags: nodeFlags(values['node-flags']),
    scenarios: scenarioList(values.scenarios),
    drains: !values['no-drains'],
    flushProbe: !values['no-flush-probe'],
    settings: settingList(values.set),
    accounts:
      values.accounts === undefined
        ? undefined
        : count('--accounts', values.accounts, MAX_ACCOUNTS),
  };
}

/**
 * `parseArgs`, whose complaints (an unknown option, a missing or ambiguous
 * value) become a `UsageError`: one line, not a stack trace.
 */
function readArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      const message = (error instanceof Error ? error.message : String(error)).replace(
        /\s*\n/g,
        ' ',
      );
      throw new UsageError(`${message} (npm run bench -- --help lists the options)`);
    }
    throw error;
  }
}

function scenarioList(raw: string): ScenarioName[] {
  const names = raw.split(',').filter((name) => name !== '');
  const bad = names.find((name) => !SCENARIO_NAMES.includes(name as ScenarioName));
  if (bad !== undefined || names.length === 0) {
    throw new UsageError(`--scenarios: one or more of ${SCENARIO_NAMES.join(', ')}`);
  }
  return [...new Set(names as ScenarioName[])];
}

/** Settings the benchmark chooses itself: where the run's data goes, and what it listens on. */
const OWN_SETTINGS = new Set(['DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'HOST', 'PORT']);

/** The settings as the report shows them: `NAME=VALUE` each. */
export function settingWords(settings: Record<string, string>): string[] {
  return Object.entries(settings).map(([name, value]) => `${name}=${value}`);
}

function settingList(raw: string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of raw) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match?.[1] || match[2] === undefined) {
      throw new UsageError(`--set: NAME=VALUE, not ${pair}`);
    }
    if (OWN_SETTINGS.has(match[1])) throw new UsageError(`--set: the benchmark sets ${match[1]}`);
    settings[match[1]] = match[2];
  }
  return settings;
}

function nodeFlags(raw: string): string[] {
  const flags = raw.split(/\s+/).filter((flag) => flag !== '');
  const bad = flags.find((flag) => !/^--[a-z0-9-]+(=[\w.,:/-]+)?$/.test(flag));
  if (bad) throw new UsageError(`--node-flags: not a Node flag: ${bad}`);
  return flags;
}

/** A whole number from 1 to `max`, given to `flag`. */
export function count(flag: string, raw: string, max: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`${flag}: a whole number from 1 to ${max}`);
  }
  return value;
}

export class UsageError extends Error {
  override name = 'UsageError';
}
