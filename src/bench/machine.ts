import { availableParallelism, cpus, totalmem } from 'node:os';
import type { Sql } from '../db/sql.js';
import type { Redis } from '../redis/connection.js';
import { loadAverage } from './proc.js';
import { countWalFiles, type WalDirectory } from './wal-segments.js';
import { readWritebackSettings, type WritebackSettings } from './writeback.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** PostgreSQL settings that change the figures: commits, analyzing, WAL files kept. */
  postgresSettings: PostgresSettings;
  /** The server's WAL directory when the run began. */
  wal: WalDirectory;
  /** When the kernel writes dirty pages out; undefined where it cannot be read. */
  writeback: WritebackSettings | undefined;
  redis: string;
  /** 1, 5 and 15 minute load averages when the run began: other work on the host shows here. */
  loadAtStart: number[];
}

interface PostgresSettings {
  autovacuum: string;
  synchronousCommit: string;
  sharedBuffers: string;
  minWalSize: string;
  maxWalSize: string;
}

export async function describeMachine(sql: Sql, redis: Redis): Promise<MachineInfo> {
  const [row] = await sql<(PostgresSettings & { version: string; room: number })[]>`
    select current_setting('server_version') as version,
      current_setting('autovacuum') as autovacuum,
      current_setting('synchronous_commit') as synchronous_commit,
      current_setting('shared_buffers') as shared_buffers,
      current_setting('min_wal_size') as min_wal_size,
      current_setting('max_wal_size') as max_wal_size,
      (pg_size_bytes(current_setting('max_wal_size'))
        / pg_size_bytes(current_setting('wal_segment_size')))::int as room`;
  const info = await redis.info('server');
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    postgres: row?.version ?? 'unknown',
    postgresSettings: {
      autovacuum: row?.autovacuum ?? 'unknown',
      synchronousCommit: row?.synchronousCommit ?? 'unknown',
      sharedBuffers: row?.sharedBuffers ?? 'unknown',
      minWalSize: row?.minWalSize ?? 'unknown',
      maxWalSize: row?.maxWalSize ?? 'unknown',
    },
    wal: { files: await countWalFiles(sql), room: row?.room ?? 0 },
    writeback: await readWritebackSettings(),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    loadAtStart: loadAverage(),
  };
}

export function machineLine(machine: MachineInfo): string {
  return (
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB; ` +
    `Node ${machine.node}, PostgreSQL ${machine.postgres} (autovacuum ` +
    `${machine.postgresSettings.autovacuum}, synchronous_commit ` +
    `${machine.postgresSettings.synchronousCommit}, shared_buffers ` +
    `${machine.postgresSettings.sharedBuffers}, min_wal_size ` +
    `${machine.postgresSettings.minWalSize} and max_wal_size ` +
    `${machine.postgresSettings.maxWalSize}), Redis ${machine.redis}; ` +
    `load average at start ${machine.loadAtStart.join(' ')}`
  );
}
