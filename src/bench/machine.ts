import { availableParallelism, cpus, totalmem } from 'node:os';
import type { Sql } from '../db/sql.js';
import type { Redis } from '../redis/connection.js';
import { loadAverage } from './proc.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** PostgreSQL settings that change the figures: commits, and whether tables get analyzed. */
  postgresSettings: { autovacuum: string; synchronousCommit: string; sharedBuffers: string };
  redis: string;
  /** 1, 5 and 15 minute load averages when the run began: other work on the host shows here. */
  loadAtStart: number[];
}

export async function describeMachine(sql: Sql, redis: Redis): Promise<MachineInfo> {
  const [row] = await sql<
    { version: string; autovacuum: string; synchronousCommit: string; sharedBuffers: string }[]
  >`select current_setting('server_version') as version,
      current_setting('autovacuum') as autovacuum,
      current_setting('synchronous_commit') as synchronous_commit,
      current_setting('shared_buffers') as shared_buffers`;
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
    },
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
    `${machine.postgresSettings.sharedBuffers}), Redis ${machine.redis}; ` +
    `load average at start ${machine.loadAtStart.join(' ')}`
  );
}
