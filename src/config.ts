import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const msList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'a comma-separated list of milliseconds')
  .transform((value) => value.split(',').map(Number));

/**
 * Every setting of every process. Defaults reach PostgreSQL and Redis on
 * 127.0.0.1 at their standard ports, so a machine that runs both needs none.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  MAX_BODY_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(30_000),
  LONG_POLL_MAX_SECONDS: int(0, 30).default(30),
  /** Turns on the queue dashboard at /admin/queues, behind HTTP basic auth (user `admin`). */
  ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),

  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/fintech_core'),
  DATABASE_POOL_SIZE: int(1, 200).default(10),

  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('fc'),

  /** The most new transfers one web process accepts in one statement. */
  ACCEPT_BATCH_SIZE: int(1, 1000).default(100),
  /** Acceptance statements one web process runs at once; each holds a pooled connection. */
  ACCEPT_STATEMENTS: int(1, 100).default(1),

  PARTITIONS: int(1, 1024).default(16),
  APPLY_BATCH_SIZE: int(1, 1000).default(100),
  /**
   * Apply transactions one worker process runs at once. The partitions whose
   * jobs wait meanwhile are applied together in the next one.
   */
  APPLY_TRANSACTIONS: int(1, 100).default(1),
  /**
   * How long a job that finds the apply step idle waits for other partitions
   * to join its transaction: fewer, larger transactions for that much delay.
   */
  APPLY_LINGER_MS: int(0, 1_000).default(20),
  /**
   * How long a job's run goes on looking for transfers after a batch found
   * none, before it ends: transfers accepted meanwhile are applied by the run
   * in hand instead of by another job. 0 ends a run at its first empty batch.
   */
  APPLY_IDLE_MS: int(0, 1_000).default(50),
  JOB_ATTEMPTS: int(1, 1000).default(25),
  JOB_BACKOFF_MS: int(1, 600_000).default(500),
  /**
   * Longest wait between two attempts of a transfer job. A partition's later
   * transfers wait behind its job, so the doubling stops here.
   */
  JOB_BACKOFF_MAX_MS: int(1, 3_600_000).default(10_000),
  /**
   * How long a transfer job's queue lock lives without renewal (renewed at
   * half this): how long a partition waits after its worker died mid-job. A
   * lock that lapses while its worker still runs costs only a wasted run,
   * because the apply step takes the partition's lock in PostgreSQL.
   */
  TRANSFER_JOB_LOCK_MS: int(1_000, 600_000).default(30_000),
  /**
   * How long a transfer worker process counts among those that share the
   * partitions without renewing its membership in Redis, which it does every
   * fifth of this: how long the partitions of a worker that died wait before
   * the others take them.
   */
  WORKER_LEASE_MS: int(500, 600_000).default(5_000),
  /**
   * How long a worker waits for PostgreSQL to answer one step of a transfer
   * job, and a web process one acceptance statement. A connection cut off
   * without being closed never answers: a worker, still alive, would go on
   * renewing its jobs' locks and hold their partitions for good, and a web
   * process would hold every transfer sent to it. Past this the process
   * exits with status 1, its work goes to the others, and a restart opens
   * new connections.
   */
  DATABASE_STALL_MS: int(1_000, 3_600_000).default(60_000),

  SWEEPER_INTERVAL_MS: int(100, 3_600_000).default(5_000),
  /** How often a worker numbers new events when no settled batch nudged it sooner. */
  EVENT_SEQUENCER_INTERVAL_MS: int(10, 60_000).default(200),
  SWEEPER_PENDING_AFTER_MS: int(0, 86_400_000).default(30_000),

  IDEMPOTENCY_TTL_HOURS: int(1, 24 * 365).default(24),
  IDEMPOTENCY_LOCK_MS: int(100, 600_000).default(10_000),

  WEBHOOK_ALLOW_PRIVATE_URLS: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(15_000),
  WEBHOOK_RETRY_SCHEDULE_MS: msList.default([
    0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
    86_400_000,
  ]),
  WEBHOOK_DISABLE_AFTER_MS: int(0, 365 * 86_400_000).default(5 * 86_400_000),
  WEBHOOK_SECRET_OVERLAP_MS: int(0, 30 * 86_400_000).default(86_400_000),
  /** Upper bound on a receiver's Retry-After, so that it cannot park a delivery for good. */
  WEBHOOK_RETRY_AFTER_MAX_MS: int(0, 7 * 86_400_000).default(86_400_000),
  /** How often the dispatcher reads the outbox when no settled signal woke it. */
  WEBHOOK_POLL_INTERVAL_MS: int(50, 60_000).default(1_000),
  /** Delivery attempts one webhooks process makes at the same time. */
  WEBHOOK_CONCURRENCY: int(1, 1_000).default(20),
  /** How long a delivery job's queue lock lives without renewal (renewed at half). */
  WEBHOOK_JOB_LOCK_MS: int(1_000, 600_000).default(30_000),
});

export type Config = z.infer<typeof configSchema>;

/**
 * Reads the configuration once from the environment given (the process's by
 * default). A bad value throws an error naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * A configuration as environment variables, which is all a child process is
 * given: it reads them back through loadConfig, like any deployed process.
 */
export function configToEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    env[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The configuration of a process that is starting: a bad setting prints one
 * line naming it, and the process exits with status 2 before it has started
 * anything.
 */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
}
